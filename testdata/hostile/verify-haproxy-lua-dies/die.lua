-- Exit the whole process after the run has started.
core.register_task(function()
    core.msleep(2500)
    os.exit(3)
end)
