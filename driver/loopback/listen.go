package loopback

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// listenerOwned reports whether the TCP socket listening on addr belongs to
// one of pids. A readiness probe alone cannot tell the proxy from another
// program that took the port in the moment between picking it and the
// proxy binding it (nginx keeps retrying a taken port for seconds).
func listenerOwned(addr string, pids []int) bool {
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return false
	}
	if len(pids) == 0 {
		return false
	}
	// The tables of the proxy's own network namespace, wherever it runs.
	inodes := listeningInodes(filepath.Join("/proc", strconv.Itoa(pids[0]), "net"), port)
	if len(inodes) == 0 {
		return false
	}
	for _, pid := range pids {
		fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd.Name()))
			if err != nil {
				continue
			}
			if inode, ok := strings.CutPrefix(link, "socket:["); ok && inodes[strings.TrimSuffix(inode, "]")] {
				return true
			}
		}
	}
	return false
}

// listeningInodes returns the socket inodes listening on TCP port (IPv4 and
// IPv6) from the tcp and tcp6 tables in dir (/proc/PID/net: those of
// PID's network namespace).
func listeningInodes(dir string, port int) map[string]bool {
	want := fmt.Sprintf(":%04X", port)
	inodes := map[string]bool{}
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(dir, table))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			if strings.HasSuffix(fields[1], want) {
				inodes[fields[9]] = true
			}
		}
		f.Close()
	}
	return inodes
}
