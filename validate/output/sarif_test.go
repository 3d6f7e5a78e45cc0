package output

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v2/sarif"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/validate"
)

// TestSARIFStructure checks the parts of the SARIF 2.1.0 schema that
// GitHub code scanning enforces: version and $schema, a driver with a name
// and rules (id, helpUri, level), results whose ruleId/ruleIndex agree,
// a level from the schema's enum, a text message, and physical locations
// with a relative URI and 1-based region.
func TestSARIFStructure(t *testing.T) {
	var doc struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name           string `json:"name"`
					InformationURI string `json:"informationUri"`
					Rules          []struct {
						ID               string `json:"id"`
						Name             string `json:"name"`
						HelpURI          string `json:"helpUri"`
						ShortDescription struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
						DefaultConfiguration struct {
							Level string `json:"level"`
						} `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex *int   `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	raw := render(t, "sarif", Options{ToolVersion: "1.0.0"})
	require.NoError(t, json.Unmarshal(raw, &doc))
	back, err := sarif.FromBytes(raw)
	require.NoError(t, err, "go-sarif reads its own model back")
	require.Len(t, back.Runs, 1)
	require.Equal(t, "2.1.0", doc.Version)
	require.Contains(t, doc.Schema, "sarif-schema-2.1.0")
	require.Len(t, doc.Runs, 1)
	run := doc.Runs[0]
	require.Equal(t, "wslb", run.Tool.Driver.Name)
	require.Len(t, run.Tool.Driver.Rules, len(validate.Rules()))
	levels := map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	for _, r := range run.Tool.Driver.Rules {
		require.Regexp(t, `^WSLB\d{3}$`, r.ID)
		u, err := url.Parse(r.HelpURI)
		require.NoError(t, err)
		require.True(t, u.IsAbs())
		require.True(t, strings.HasSuffix(r.HelpURI, "docs/rules/"+r.ID+".md"))
		require.NotEmpty(t, r.ShortDescription.Text)
		require.True(t, levels[r.DefaultConfiguration.Level], r.DefaultConfiguration.Level)
	}
	require.NotEmpty(t, run.Results)
	for _, res := range run.Results {
		require.NotNil(t, res.RuleIndex)
		require.Equal(t, res.RuleID, run.Tool.Driver.Rules[*res.RuleIndex].ID)
		require.True(t, levels[res.Level], res.Level)
		require.NotEmpty(t, res.Message.Text)
		require.Len(t, res.Locations, 1)
		loc := res.Locations[0].PhysicalLocation
		require.NotEmpty(t, loc.ArtifactLocation.URI)
		require.False(t, strings.HasPrefix(loc.ArtifactLocation.URI, "/"), "GitHub wants repository-relative URIs")
		require.NotContains(t, loc.ArtifactLocation.URI, `\`)
		require.GreaterOrEqual(t, loc.Region.StartLine, 1)
		require.GreaterOrEqual(t, loc.Region.StartColumn, 0)
	}
}
