package output

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/validate"
)

// sarifSchema is the official SARIF 2.1.0 JSON schema (OASIS), as shipped in
// Microsoft's SARIF Multitool.
const sarifSchema = "../../testdata/sarif/sarif-schema-2.1.0.json"

func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(sarifSchema)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("sarif-schema-2.1.0.json", doc))
	schema, err := c.Compile("sarif-schema-2.1.0.json")
	require.NoError(t, err)
	return schema
}

// TestSARIFMatchesTheSchema validates the output against the SARIF 2.1.0
// schema, for the shared fixture and for findings in absolute, relative
// and oddly named files.
func TestSARIFMatchesTheSchema(t *testing.T) {
	schema := compileSARIFSchema(t)
	validateDoc := func(raw []byte) {
		t.Helper()
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		require.NoError(t, err)
		require.NoError(t, schema.Validate(doc))
	}
	validateDoc(render(t, "sarif", Options{ToolVersion: "1.0.0"}))

	// The schema check can fail: a level outside the schema's enum.
	bad, err := jsonschema.UnmarshalJSON(bytes.NewReader(bytes.Replace(
		render(t, "sarif", Options{ToolVersion: "1.0.0"}), []byte(`"level": "warning"`), []byte(`"level": "severe"`), 1)))
	require.NoError(t, err)
	require.Error(t, schema.Validate(bad))

	abs, err := filepath.Abs("haproxy.cfg")
	require.NoError(t, err)
	res := validate.Result{Findings: []validate.Finding{
		{Rule: "WSLB201", Severity: validate.Warning, File: abs, Line: 3, Message: "m", Fix: "f"},
		{Rule: "WSLB101", Severity: validate.Error, File: "conf.d/my site.conf", Line: 7, Column: 5, Message: "m"},
		{Rule: "WSLB001", Severity: validate.Error, File: "a:b.cfg", Line: 1, Message: "m"},
	}}
	p, err := New("sarif", Options{ToolVersion: "1.0.0"})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, p.Print(&buf, res))
	validateDoc(buf.Bytes())

	var out struct {
		Runs []struct {
			Results []struct {
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &out))
	var uris []string
	for _, r := range out.Runs[0].Results {
		uris = append(uris, r.Locations[0].PhysicalLocation.ArtifactLocation.URI)
	}
	require.Equal(t, []string{"file://" + filepath.ToSlash(abs), "conf.d/my%20site.conf", "./a:b.cfg"}, uris)
}
