package all_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	_ "github.com/wslb/wslb/driver/all"
	"github.com/wslb/wslb/driver/netns"
)

// Auto picks the netns driver where it runs (as root, with network
// namespaces), the loopback driver where it does not, and for the runs it
// refuses (echo backends that join a broker).
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

	needs := driver.Needs{Broker: true}
	refused := netns.Check(needs)
	require.Error(t, refused)
	c, err = driver.Choose(driver.Auto, needs)
	require.NoError(t, err)
	require.Equal(t, "loopback", c.Driver.Name)
	require.Equal(t, "auto: the first that can run here (netns: "+refused.Error()+")", c.Why)
}
