package loopback

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/wslb/wslb/driver"
)

// ServerState is one server as the proxy itself sees it.
type ServerState = driver.ServerState

// ErrNoServerState is returned by ServerStates for proxies without a
// runtime API (nginx open source).
var ErrNoServerState = driver.ErrNoServerState

// ServerStates asks the running proxy for the state of every server, on
// HAProxy's master CLI (routed to the current worker with "@1").
func (p *Proxy) ServerStates(ctx context.Context) ([]ServerState, error) {
	return MasterServerStates(ctx, p.masterSock)
}

// MasterServerStates asks the HAProxy master CLI at sock for the state of
// every server of its current worker; no socket ("") is ErrNoServerState.
// Drivers whose proxy's scratch dir is on this host share it.
func MasterServerStates(ctx context.Context, sock string) ([]ServerState, error) {
	if sock == "" {
		return nil, ErrNoServerState
	}
	var states []ServerState
	err := masterCommand(ctx, sock, "@1 show servers state", func(r io.Reader) error {
		var err error
		states, err = parseServersState(r)
		return err
	})
	return states, err
}

// masterCommand sends one command to HAProxy's master CLI at sock and
// hands the answer to parse.
func masterCommand(ctx context.Context, sock, cmd string, parse func(io.Reader) error) error {
	d := net.Dialer{Timeout: 500 * time.Millisecond}
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return err
	}
	// The master CLI answers and closes only once it sees our end of input.
	if uc, ok := conn.(*net.UnixConn); ok {
		_ = uc.CloseWrite()
	}
	return parse(conn)
}

// Bits and values of `show servers state` columns (HAProxy's
// include/haproxy/check-t.h and server-t.h).
const (
	// srv_check_state: the check runs when CHK_ST_CONFIGURED and
	// CHK_ST_ENABLED are set and CHK_ST_PAUSED (maintenance) is not.
	checkOn     = 0x2 | 0x4
	checkPaused = 0x8
	// srv_check_status: HCHK_STATUS_INI (1) and HCHK_STATUS_START (2)
	// come before a check's result; every later status is one.
	checkStatusDone = 3
	// srv_admin_state: SRV_ADMF_FMAINT | IMAINT | CMAINT | RMAINT
	// (forced, inherited, config "disabled", DNS resolution).
	adminMaint = 0x1 | 0x2 | 0x4 | 0x20
)

// parseServersState reads `show servers state` (format version 1): a
// version line, a "# be_id be_name ..." header naming the columns, then
// one line per server.
func parseServersState(r io.Reader) ([]ServerState, error) {
	var (
		states []ServerState
		col    map[string]int
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			col = map[string]int{}
			for i, name := range strings.Fields(strings.TrimPrefix(line, "#")) {
				col[name] = i
			}
			continue
		}
		f := strings.Fields(line)
		if col == nil || len(f) < len(col) {
			continue // the version line, or a message instead of a table
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return f[i]
			}
			return ""
		}
		state, err := strconv.Atoi(get("srv_op_state"))
		if err != nil {
			continue
		}
		admin, _ := strconv.Atoi(get("srv_admin_state"))
		check, _ := strconv.Atoi(get("srv_check_state"))
		status, _ := strconv.Atoi(get("srv_check_status"))
		states = append(states, ServerState{
			Backend: get("be_name"),
			Name:    get("srv_name"),
			Addr:    net.JoinHostPort(get("srv_addr"), get("srv_port")),
			Up:      state == 2, // SRV_ST_RUNNING
			Pending: check&(checkOn|checkPaused) == checkOn && status < checkStatusDone,
			Maint:   admin&adminMaint != 0,
		})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if col == nil {
		return nil, fmt.Errorf("show servers state: no table in the answer")
	}
	return states, nil
}
