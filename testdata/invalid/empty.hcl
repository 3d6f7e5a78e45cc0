# ERROR: No listener | ERROR: No pool
