# wslb — build, test and run targets. `make run` and `make test` are the
# README's quick start; both install the proxies they need when missing.

GO        ?= go
BIN       := bin/wslb
PKGS      := ./...
PROXIES   := haproxy nginx
SUDO      := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
FUZZTIME  ?= 60s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# RACE_PKGS run again under the race detector in `make test-race`: the
# packages with concurrent code whose tests are fast enough for it.
RACE_PKGS := ./harness/... ./echo/... ./report/... ./validate/... ./topology/... ./internal/...
# WSLB_PROXY_CACHE holds the root filesystems with the other supported
# haproxy and nginx versions (docs/proxies.md): outside the clone, so every
# checkout and CI run reuses it. wslb and the tests read the same variable.
WSLB_PROXY_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/wslb/proxies
export WSLB_PROXY_CACHE
# WSLB_RUNTIME_CACHE holds the root filesystem of wslb-runtime:bookworm
# (scripts/docker-images), beside the proxies'.
WSLB_RUNTIME_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/wslb/runtime
export WSLB_RUNTIME_CACHE

.PHONY: all build test test-race run deps test-deps proxies docker apt-install lint fuzz bench clean

all: build

# Static (CGO_ENABLED=0): verify --driver docker puts this very binary in
# its FROM scratch node image, which has no C library to load.
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/wslb

# deps installs haproxy and nginx (run by `wslb verify` and the tests) with
# apt-get when missing; test-deps adds chromium, which renders the HTML
# report in a test, the brokers the broker tests start (redis-server,
# nats-server, rabbitmq-server) and the Socket.IO example's node_modules
# (examples/socketio/deps.sh: npm ci, cached outside the clone), which
# the Socket.IO end-to-end tests run, and the other proxy versions
# (`make proxies`), which the tests run too; it also builds tools/istiocheck
# (a module of its own, slow to build the first time) that the Istio tests run.
deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(PROXIES)"

test-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(PROXIES) chromium redis-server nats-server rabbitmq-server mmdebstrap npm"
	@command -v ip >/dev/null 2>&1 || $(MAKE) --no-print-directory apt-install PKGS="iproute2"
	@examples/socketio/deps.sh
	@$(MAKE) --no-print-directory proxies
	@$(GO) build -C tools/istiocheck -o /dev/null .

# proxies builds (once; reused while healthy) the Debian trixie and sid
# root filesystems holding HAProxy 3.0 and 3.2, NGINX 1.26 and 1.30 into
# $(WSLB_PROXY_CACHE). See scripts/proxies. sudo only when there is
# something to build.
proxies:
	@scripts/proxies --check 2>/dev/null || { \
		$(MAKE) --no-print-directory apt-install PKGS="mmdebstrap" && \
		$(SUDO) env WSLB_PROXY_CACHE="$(WSLB_PROXY_CACHE)" scripts/proxies; }

# docker gets a Docker engine for `verify --driver docker` and its tests:
# docker.io and docker-compose (v1, Debian 12's) when missing, an engine of
# wslb's own (scripts/dockerd: own socket and data root, no iptables, no
# forwarding, no docker0), the proxy images built from the root
# filesystems of `make proxies` and wslb-runtime:bookworm (Node.js,
# redis-server, nats-server: the --backend-cmd servers' and brokers'
# image; its root filesystem cached in $(WSLB_RUNTIME_CACHE), built with
# mmdebstrap when absent) (scripts/docker-images; no registry).
# `scripts/dockerd stop` stops the engine; `make test` does after its run.
DOCKER_HOST_WSLB := unix:///run/wslb-dockerd/docker.sock
docker: proxies
	@command -v dockerd >/dev/null 2>&1 && command -v docker-compose >/dev/null 2>&1 || { \
		echo "installing: docker.io docker-compose"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io docker-compose; }
	@$(MAKE) --no-print-directory apt-install PKGS="mmdebstrap"
	@$(SUDO) scripts/dockerd start >/dev/null
	@$(SUDO) env DOCKER_HOST=$(DOCKER_HOST_WSLB) WSLB_PROXY_CACHE="$(WSLB_PROXY_CACHE)" WSLB_RUNTIME_CACHE="$(WSLB_RUNTIME_CACHE)" scripts/docker-images

apt-install:
	@missing=""; \
	for p in $(PKGS); do \
		command -v $$p >/dev/null 2>&1 || [ -x /usr/sbin/$$p ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing; \
	fi

test: test-deps docker
	@rc=0; $(GO) test -count=1 -timeout 20m $(PKGS) || rc=$$?; \
		$(SUDO) scripts/dockerd stop; exit $$rc

# run is the main job: verify the chat example against both real proxies.
run: deps build
	$(BIN) verify examples/chat.hcl --proxy all

test-race: test-deps
	$(GO) test -count=1 -race -timeout 20m $(RACE_PKGS)

# lint is what reviewers check: gofmt, go vet and staticcheck (pinned).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	$(GO) vet -C tools/istiocheck ./...

# fuzz runs each fuzz target for FUZZTIME (go test fuzzes one target at a time).
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$target"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

bench: deps docker
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

clean:
	rm -rf bin out
