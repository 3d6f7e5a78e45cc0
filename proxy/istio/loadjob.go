package istio

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/wslb/wslb/topology"
)

// The load Job drives a deployed topology from a cluster: N pods, one
// shard of the clients each (`wslb verify --shard i/N --against ...`), each
// printing its results between marker lines to its log, which
// LoadJobScript collects and merges. Kubernetes' own Go types
// (k8s.io/api) are not a dependency of wslb: the few fields are written
// through the typed structs below.

// LoadJobOptions shape the load Job.
type LoadJobOptions struct {
	// Shards is the Job's parallelism and completions: one shard per pod.
	Shards int
	// Clients are the clients of all shards together; zero gives
	// DefaultLoadClientsPerShard per shard.
	Clients int
	// Image runs wslb (its entrypoint is the wslb binary).
	Image string
	// Against is the HOST:PORT the pods connect to; empty means the
	// ingress gateway's in-cluster Service on the WebSocket route's
	// listener port.
	Against string
	// TopologyText is the topology file's bytes, shipped to the pods in a
	// ConfigMap: the shards hash it, and merge refuses shards of another.
	TopologyText []byte
}

// Defaults of the load Job.
const (
	DefaultLoadShards          = 4
	DefaultLoadClientsPerShard = 5000
	DefaultLoadImage           = "wslb:latest"
	// GatewayService is the in-cluster name of the ingress gateway Istio
	// installs by default.
	GatewayService = "istio-ingressgateway.istio-system.svc.cluster.local"
	// LoadJobFile and LoadScriptFile are the files --load-job writes.
	LoadJobFile    = "wslb-load-job.yaml"
	LoadScriptFile = "wslb-load-merge.sh"
	// maxLoadShards bounds the Job's pods (verify's MaxShards).
	maxLoadShards = 1000
	// topologyMount is where the pods find the topology.
	topologyMount = "/etc/wslb"
	topologyKey   = "topology.hcl"
	// completionIndex is the annotation an Indexed Job sets on each pod.
	completionIndex = "batch.kubernetes.io/job-completion-index"
)

// LoadJobName is the Job's (and its ConfigMap's) name for t.
func LoadJobName(t *topology.Topology) string {
	name := "wslb-load-" + Label(t.Name)
	if len(name) > maxLabel {
		name = strings.TrimRight(name[:maxLabel], "-")
	}
	return name
}

// The Kubernetes fields the Job uses, named as the API names them.
type (
	configMap struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   Metadata          `json:"metadata"`
		Data       map[string]string `json:"data"`
	}
	jobSpec struct {
		CompletionMode          string      `json:"completionMode"`
		Completions             int         `json:"completions"`
		Parallelism             int         `json:"parallelism"`
		BackoffLimit            int         `json:"backoffLimit"`
		TTLSecondsAfterFinished int         `json:"ttlSecondsAfterFinished"`
		Template                podTemplate `json:"template"`
	}
	podTemplate struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec podSpec `json:"spec"`
	}
	podSpec struct {
		RestartPolicy string      `json:"restartPolicy"`
		Affinity      podAffinity `json:"affinity"`
		Containers    []container `json:"containers"`
		Volumes       []podVolume `json:"volumes"`
	}
	podAffinity struct {
		PodAntiAffinity struct {
			Preferred []weightedTerm `json:"preferredDuringSchedulingIgnoredDuringExecution"`
		} `json:"podAntiAffinity"`
	}
	weightedTerm struct {
		Weight int `json:"weight"`
		Term   struct {
			LabelSelector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"labelSelector"`
			TopologyKey string `json:"topologyKey"`
		} `json:"podAffinityTerm"`
	}
	container struct {
		Name         string        `json:"name"`
		Image        string        `json:"image"`
		Args         []string      `json:"args"`
		Env          []envVar      `json:"env"`
		VolumeMounts []volumeMount `json:"volumeMounts"`
	}
	envVar struct {
		Name      string `json:"name"`
		ValueFrom struct {
			FieldRef struct {
				FieldPath string `json:"fieldPath"`
			} `json:"fieldRef"`
		} `json:"valueFrom"`
	}
	volumeMount struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
		ReadOnly  bool   `json:"readOnly"`
	}
	podVolume struct {
		Name      string `json:"name"`
		ConfigMap struct {
			Name string `json:"name"`
		} `json:"configMap"`
	}
)

// LoadJob writes the load Job for t: a ConfigMap holding the topology and
// an Indexed Job whose pod i runs shard i of o.Shards against the
// deployed topology, printing its results to its log.
func LoadJob(t *topology.Topology, o LoadJobOptions) ([]byte, error) {
	if o.Shards < 1 || o.Shards > maxLoadShards {
		return nil, fmt.Errorf("shards must be between 1 and %d, not %d", maxLoadShards, o.Shards)
	}
	if o.Clients == 0 {
		o.Clients = DefaultLoadClientsPerShard * o.Shards
	}
	if o.Clients < o.Shards {
		return nil, fmt.Errorf("%d clients cannot fill %d shards", o.Clients, o.Shards)
	}
	if o.Image == "" {
		o.Image = DefaultLoadImage
	}
	if err := loadable(t); err != nil {
		return nil, err
	}
	if o.Against == "" {
		o.Against = net.JoinHostPort(GatewayService, strconv.Itoa(gatewayPort(t)))
	}
	name := LoadJobName(t)
	labels := map[string]string{"app.kubernetes.io/managed-by": "wslb", "app.kubernetes.io/name": name}

	cm := configMap{APIVersion: "v1", Kind: "ConfigMap", Metadata: Metadata{Name: name, Labels: labels}, Data: map[string]string{topologyKey: string(o.TopologyText)}}
	c := container{
		Name:  "wslb",
		Image: o.Image,
		Args: []string{
			"verify", topologyMount + "/" + topologyKey,
			"--against", o.Against, "--allow-remote",
			"--clients", strconv.Itoa(o.Clients),
			"--shard", "$(WSLB_SHARD)/" + strconv.Itoa(o.Shards),
			"--results", "-",
		},
		VolumeMounts: []volumeMount{{Name: "topology", MountPath: topologyMount, ReadOnly: true}},
	}
	env := envVar{Name: "WSLB_SHARD"}
	env.ValueFrom.FieldRef.FieldPath = "metadata.annotations['" + completionIndex + "']"
	c.Env = []envVar{env}
	spec := jobSpec{
		CompletionMode: "Indexed", Completions: o.Shards, Parallelism: o.Shards,
		// A shard exits 0 once its results are written, whatever they say:
		// a failure is an error worth a second try, not a verdict.
		BackoffLimit:            o.Shards,
		TTLSecondsAfterFinished: 86400,
	}
	spec.Template.Metadata.Labels = labels
	spec.Template.Spec.RestartPolicy = "Never"
	// One machine holds about 10,000 sockets: spread the shards over nodes.
	var term weightedTerm
	term.Weight = 100
	term.Term.LabelSelector.MatchLabels = labels
	term.Term.TopologyKey = "kubernetes.io/hostname"
	spec.Template.Spec.Affinity.PodAntiAffinity.Preferred = []weightedTerm{term}
	spec.Template.Spec.Containers = []container{c}
	var vol podVolume
	vol.Name = "topology"
	vol.ConfigMap.Name = name
	spec.Template.Spec.Volumes = []podVolume{vol}

	cmDoc, err := yaml.Marshal(cm)
	if err != nil {
		return nil, fmt.Errorf("encode ConfigMap %s: %w", name, err)
	}
	job := NewObject("batch/v1", "Job", name, spec)
	job.Metadata.Labels = labels
	jobDoc, err := Marshal(job)
	if err != nil {
		return nil, err
	}
	var out strings.Builder
	for _, h := range []string{
		fmt.Sprintf("Generated by wslb from %s (topology %q): a load Job, %d shards of %d clients in all.", baseName(t.Filename), t.Name, o.Shards, o.Clients),
		fmt.Sprintf("Each pod runs one shard against %s, whose servers must run `wslb echo --id NAME`;", o.Against),
		"its results go to its log between marker lines. Apply with: kubectl apply -n NAMESPACE -f " + LoadJobFile,
		"then collect and merge them with: sh " + LoadScriptFile + " NAMESPACE (see docs/sharding.md).",
	} {
		out.WriteString("# " + h + "\n")
	}
	out.WriteString("---\n")
	out.Write(cmDoc)
	out.WriteString("---\n")
	out.Write(jobDoc)
	return []byte(out.String()), nil
}

// loadable refuses a topology whose WebSocket pools a load Job cannot
// exercise: every client of a pod leaves from the pod's address, so source
// affinity would see one client per pod.
func loadable(t *topology.Topology) error {
	var source []string
	ws := 0
	for _, p := range t.Pools {
		if !p.WebSocket {
			continue
		}
		ws++
		if p.Affinity.Mode == topology.AffinitySource {
			source = append(source, p.Name)
		}
	}
	if ws == 0 {
		return errors.New("the topology has no WebSocket pool for a load Job to exercise")
	}
	if len(source) > 0 {
		return fmt.Errorf("pool %s keys affinity on the source address: every client of a load pod leaves from the pod's one address, "+
			"so a Job cannot show that pool's stickiness; run the shards on machines of their own (docs/sharding.md)", strings.Join(source, ", "))
	}
	return nil
}

// gatewayPort is the port of the listener that the first WebSocket pool's
// route uses: where the pods connect on the gateway.
func gatewayPort(t *topology.Topology) int {
	for _, p := range t.Pools {
		if !p.WebSocket {
			continue
		}
		for _, r := range t.Routes {
			if r.Pool != p.Name {
				continue
			}
			if l := t.Listener(r.Listener); l != nil {
				return l.Address.Port
			}
		}
	}
	if len(t.Listeners) > 0 {
		return t.Listeners[0].Address.Port
	}
	return 80
}

// LoadJobScript is the shell script that waits for the Job, collects each
// shard's log and merges them.
func LoadJobScript(t *topology.Topology, shards int) []byte {
	name := LoadJobName(t)
	return []byte(fmt.Sprintf(`#!/bin/sh
# Generated by wslb: collect the results of the load Job %[1]s (%[2]d shards)
# and judge them as one run. Usage: sh %[3]s [NAMESPACE] [TIMEOUT]
# Each shard's pod prints its results between marker lines in its log;
# wslb report merge reads them from the logs and refuses a missing shard.
set -eu
ns=${1:-default}
timeout=${2:-30m}
kubectl -n "$ns" wait --for=condition=complete --timeout="$timeout" job/%[1]s
dir=$(mktemp -d)
i=0
while [ "$i" -lt %[2]d ]; do
  pod=$(kubectl -n "$ns" get pods -l job-name=%[1]s,%[4]s="$i" \
    --field-selector=status.phase=Succeeded -o jsonpath='{.items[0].metadata.name}')
  kubectl -n "$ns" logs "$pod" > "$dir/shard-$i.log"
  i=$((i + 1))
done
echo "shard logs in $dir" >&2
exec wslb report merge "$dir"/shard-*.log
`, name, shards, LoadScriptFile, completionIndex))
}
