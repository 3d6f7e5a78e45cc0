package driver_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
)

// A driver is a package that registers itself: verify finds it by name
// with no switch to extend.
func TestRegisterAndLookup(t *testing.T) {
	opened := false
	driver.Register(&driver.Descriptor{
		Name:    "toy-test",
		Summary: "a driver that only exists in this test",
		Open: func(context.Context, driver.Options) (driver.Env, error) {
			opened = true
			return nil, errors.New("toy")
		},
	})
	require.Contains(t, driver.Names(), "toy-test")
	d, err := driver.Lookup("toy-test")
	require.NoError(t, err)
	_, err = d.Open(context.Background(), driver.Options{})
	require.EqualError(t, err, "toy")
	require.True(t, opened)

	_, err = driver.Lookup("warp")
	require.ErrorContains(t, err, `unknown driver "warp": want `)
	require.ErrorContains(t, err, "toy-test")

	require.Panics(t, func() {
		driver.Register(&driver.Descriptor{Name: "toy-test", Open: d.Open})
	}, "a name is registered once")
	require.Panics(t, func() { driver.Register(&driver.Descriptor{Name: "no-open"}) })
}

func TestNotSupported(t *testing.T) {
	err := driver.NotSupported("loopback", "pause backend ws1")
	require.ErrorIs(t, err, driver.ErrNotSupported)
	require.EqualError(t, err, "pause backend ws1: not supported by driver loopback")
}

// Auto picks the highest-ranked driver whose Check accepts the run;
// a named driver must pass its own Check.
func TestPick(t *testing.T) {
	open := func(context.Context, driver.Options) (driver.Env, error) { return nil, nil }
	driver.Register(&driver.Descriptor{Name: "pick-low-test", Open: open, AutoRank: -1000})
	driver.Register(&driver.Descriptor{Name: "pick-high-test", Open: open, AutoRank: 1000, Check: func(n driver.Needs) error {
		if n.ForeignServers {
			return errors.New("runs only echo servers")
		}
		return nil
	}})
	d, err := driver.Pick("", driver.Needs{})
	require.NoError(t, err)
	require.Equal(t, "pick-high-test", d.Name)
	d, err = driver.Pick(driver.Auto, driver.Needs{ForeignServers: true})
	require.NoError(t, err)
	require.NotEqual(t, "pick-high-test", d.Name)
	_, err = driver.Pick("pick-high-test", driver.Needs{ForeignServers: true})
	require.EqualError(t, err, "driver pick-high-test: runs only echo servers")
	require.Contains(t, driver.Names(), driver.Auto)

	// Choose says why, for the report.
	c, err := driver.Choose(driver.Auto, driver.Needs{})
	require.NoError(t, err)
	require.Equal(t, "pick-high-test", c.Driver.Name)
	require.Equal(t, "auto: ranks first and can run here", c.Why)
	c, err = driver.Choose("", driver.Needs{ForeignServers: true})
	require.NoError(t, err)
	require.NotEqual(t, "pick-high-test", c.Driver.Name)
	require.Equal(t, "auto: the first that can run here (pick-high-test: runs only echo servers)", c.Why)
	c, err = driver.Choose("pick-low-test", driver.Needs{})
	require.NoError(t, err)
	require.Equal(t, "named by --driver", c.Why)

	// AutoCheck: what the driver runs when named, auto does not give it.
	driver.Register(&driver.Descriptor{Name: "pick-named-test", Open: open, AutoRank: 2000, AutoCheck: func(n driver.Needs) error {
		if n.Broker {
			return errors.New("brokers when named only")
		}
		return nil
	}})
	c, err = driver.Choose(driver.Auto, driver.Needs{Broker: true})
	require.NoError(t, err)
	require.Equal(t, "pick-high-test", c.Driver.Name)
	require.Contains(t, c.Why, "pick-named-test: brokers when named only")
	d, err = driver.Pick("pick-named-test", driver.Needs{Broker: true})
	require.NoError(t, err)
	require.Equal(t, "pick-named-test", d.Name)
	d, err = driver.Pick(driver.Auto, driver.Needs{})
	require.NoError(t, err)
	require.Equal(t, "pick-named-test", d.Name)
}
