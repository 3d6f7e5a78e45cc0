package report

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFormatMetricDoesNotRepeatTheName(t *testing.T) {
	tests := []struct {
		m    Metric
		want string
	}{
		{Metric{Name: "sticky clients", Value: 200, Unit: "clients"}, "200"},
		{Metric{Name: "clients", Value: 200, Unit: "clients"}, "200"},
		{Metric{Name: "held connections", Value: 1200, Unit: "connections"}, "1,200"},
		{Metric{Name: "clients on ws-1", Value: 3, Unit: "clients"}, "3"},
		{Metric{Name: "failed connections while down", Value: 0, Unit: "connections"}, "0"},
		// A singular name names the unit too.
		{Metric{Name: "connection errors", Value: 2, Unit: "connections"}, "2"},
		// The unit is kept when the name does not say what is counted.
		{Metric{Name: "dropped", Value: 0, Unit: "connections"}, "0 connections"},
		{Metric{Name: "re-pinned to a survivor", Value: 52, Unit: "clients"}, "52 clients"},
		{Metric{Name: "reclientsx", Value: 1, Unit: "clients"}, "1 clients"},
		{Metric{Name: "time to route around", Value: 1234.5, Unit: "ms"}, "1234.5 ms"},
		{Metric{Name: "stickiness", Value: 100, Unit: "%"}, "100%"},
		{Metric{Name: "chi-square p-value", Value: 0.412}, "0.412"},
	}
	for _, tc := range tests {
		t.Run(tc.m.Name, func(t *testing.T) {
			require.Equal(t, tc.want, formatMetric(tc.m))
		})
	}
}
