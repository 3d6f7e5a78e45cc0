package istio_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/wslb/wslb/proxy/internal/targettest"
	"github.com/wslb/wslb/proxy/istio"
	"github.com/wslb/wslb/topology"
)

// The load Job and its merge script for the cookie example, against the
// golden files (go test ./proxy/istio -update rewrites them).
func TestLoadJobGolden(t *testing.T) {
	path := "../../examples/cookie.hcl"
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	topo := targettest.Load(t, path)
	job, err := istio.LoadJob(topo, istio.LoadJobOptions{Shards: 4, TopologyText: text})
	require.NoError(t, err)
	for name, got := range map[string][]byte{
		istio.LoadJobFile:    job,
		istio.LoadScriptFile: istio.LoadJobScript(topo, 4),
	} {
		golden := filepath.Join(goldenDir, "load-job", name)
		if *update {
			require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
			require.NoError(t, os.WriteFile(golden, got, 0o644))
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "run go test ./proxy/istio -update to create the golden files")
		require.Equal(t, string(want), string(got), "%s differs from the golden file; review and run go test ./proxy/istio -update", golden)
	}

	// The stream is a ConfigMap holding the topology's bytes as they are
	// (the shards hash them) and an Indexed Job of 4 pods, pod i running
	// shard i of 4.
	docs := strings.Split(string(job), "\n---\n")
	require.Len(t, docs, 3)
	var cm struct {
		Kind string            `json:"kind"`
		Data map[string]string `json:"data"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(docs[1]), &cm))
	require.Equal(t, "ConfigMap", cm.Kind)
	require.Equal(t, string(text), cm.Data["topology.hcl"])
	var j struct {
		Kind string `json:"kind"`
		Spec struct {
			CompletionMode string `json:"completionMode"`
			Completions    int    `json:"completions"`
			Parallelism    int    `json:"parallelism"`
			Template       struct {
				Spec struct {
					Containers []struct {
						Args []string `json:"args"`
						Env  []struct {
							Name      string `json:"name"`
							ValueFrom struct {
								FieldRef struct {
									FieldPath string `json:"fieldPath"`
								} `json:"fieldRef"`
							} `json:"valueFrom"`
						} `json:"env"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(docs[2]), &j))
	require.Equal(t, "Job", j.Kind)
	require.Equal(t, "Indexed", j.Spec.CompletionMode)
	require.Equal(t, 4, j.Spec.Completions)
	require.Equal(t, 4, j.Spec.Parallelism)
	c := j.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	require.Contains(t, args, "--shard $(WSLB_SHARD)/4 --results -")
	require.Contains(t, args, "--against istio-ingressgateway.istio-system.svc.cluster.local:8080")
	require.Contains(t, args, "--clients 20000")
	require.Equal(t, "WSLB_SHARD", c.Env[0].Name)
	require.Equal(t, "metadata.annotations['batch.kubernetes.io/job-completion-index']", c.Env[0].ValueFrom.FieldRef.FieldPath)
}

func TestLoadJobRefusals(t *testing.T) {
	chat := targettest.Load(t, "../../examples/chat.hcl")
	_, err := istio.LoadJob(chat, istio.LoadJobOptions{Shards: 4})
	require.ErrorContains(t, err, "pool realtime keys affinity on the source address")
	cookie := targettest.Load(t, "../../examples/cookie.hcl")
	_, err = istio.LoadJob(cookie, istio.LoadJobOptions{Shards: 0})
	require.ErrorContains(t, err, "shards must be between 1 and")
	_, err = istio.LoadJob(cookie, istio.LoadJobOptions{Shards: 4, Clients: 3})
	require.ErrorContains(t, err, "3 clients cannot fill 4 shards")
	long := &topology.Topology{Name: strings.Repeat("x", 80)}
	require.LessOrEqual(t, len(istio.LoadJobName(long)), 63)
}
