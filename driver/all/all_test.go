package all_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	_ "github.com/wslb/wslb/driver/all"
	"github.com/wslb/wslb/driver/netns"
)

// Auto picks the netns driver where it runs (as root, with network
// namespaces), brokers included, and the loopback driver where it does
// not, and for the user's servers (--backend-cmd), which --driver netns
// runs only when named.
func TestAutoPicksNetnsWhereItRuns(t *testing.T) {
	c, err := driver.Choose(driver.Auto, driver.Needs{})
	require.NoError(t, err)
	if err := netns.Check(driver.Needs{}); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the netns driver must run in CI: %v", err)
		}
		require.Equal(t, "loopback", c.Driver.Name)
		require.Equal(t, "auto: the first that can run here (netns: "+err.Error()+")", c.Why)
		return
	}
	require.Equal(t, os.Geteuid(), 0)
	require.Equal(t, netns.Name, c.Driver.Name)
	require.Equal(t, "auto: ranks first and can run here", c.Why)

	c, err = driver.Choose(driver.Auto, driver.Needs{ForeignServers: true})
	require.NoError(t, err)
	require.Equal(t, "loopback", c.Driver.Name)
	require.True(t, strings.HasPrefix(c.Why, "auto: the first that can run here (netns: "), c.Why)
	require.Contains(t, c.Why, "--backend-cmd")
	require.NoError(t, netns.Check(driver.Needs{ForeignServers: true}), "named, it runs them")

	c, err = driver.Choose(driver.Auto, driver.Needs{Broker: true})
	require.NoError(t, err)
	require.Equal(t, netns.Name, c.Driver.Name)
}
