package driver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
)

func TestParseFault(t *testing.T) {
	for spec, want := range map[string]driver.Fault{
		"loss:app2:5%":                     {Kind: driver.FaultLoss, Backend: "app2", Percent: 5},
		"loss:app2:100":                    {Kind: driver.FaultLoss, Backend: "app2", Percent: 100},
		"rate:app1:1mbit":                  {Kind: driver.FaultRate, Backend: "app1", Rate: 1_000_000},
		"rate:app1:500kbit":                {Kind: driver.FaultRate, Backend: "app1", Rate: 500_000},
		"down:app3":                        {Kind: driver.FaultDown, Backend: "app3"},
		"pause:app2":                       {Kind: driver.FaultPause, Backend: "app2"},
		"partition:app1":                   {Kind: driver.FaultPartition, Backend: "app1"},
		"delay:app2:50ms":                  {Kind: driver.FaultDelay, Backend: "app2", Delay: 50 * time.Millisecond},
		"pause:" + strings.Repeat("a", 63): {Kind: driver.FaultPause, Backend: strings.Repeat("a", 63)},
	} {
		f, err := driver.ParseFault(spec)
		require.NoError(t, err, spec)
		require.Equal(t, want, f, spec)
		back, err := driver.ParseFault(f.String())
		require.NoError(t, err, f.String())
		require.Equal(t, f, back, "String reads back")
	}
	for spec, msg := range map[string]string{
		"loss":                             "want KIND:BACKEND[:VALUE]",
		"loss:app2":                        "loss needs a percentage, e.g. loss:app2:5%",
		"loss:app2:0%":                     "loss must be 1% to 100%",
		"loss:app2:101%":                   "loss must be 1% to 100%",
		"rate:app1:fast":                   "rate must be a whole number",
		"rate:app1:10bit":                  "at least 8000bit",
		"delay:app2:-1s":                   "delay must be a duration above 0",
		"delay:app2:1h":                    "at most 10s",
		"down:app3:now":                    "down takes no value",
		"melt:app1":                        `unknown kind "melt"`,
		"pause:a b":                        "is not a server id",
		"pause:app1\nx":                    "is not a server id",
		"pause:" + strings.Repeat("a", 64): "is not a server id",
		"partition:app1:x:y":               "want KIND:BACKEND[:VALUE]",
	} {
		_, err := driver.ParseFault(spec)
		require.ErrorContains(t, err, msg, spec)
	}
}

func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"loss:app2:5%", "rate:a:1mbit", "delay:b:50ms", "down:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		fault, err := driver.ParseFault(spec)
		if err != nil {
			return
		}
		back, err := driver.ParseFault(fault.String())
		require.NoError(t, err)
		require.Equal(t, fault, back)
	})
}
