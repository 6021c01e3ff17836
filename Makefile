# dnsmon: `make demo` runs the whole job end to end, `make test` runs every test.
# Both check the machine and install what they need first (.ci/preflight,
# .ci/deps; the demo only what it uses) and are safe to run again.

export DNSMON_CACHE ?= $(HOME)/.cache/dnsmon
GO       ?= go
GOFLAGS  ?=
BIN      := bin
CMDS     := dnsmon-farm dnsmon-fetch dnsmon-load dnsmon-watch
# The whole suite boots several qemu guests and builds in containers.
TEST_TIMEOUT ?= 80m
# Fuzzing budget per target, as a count of inputs: 30 to 50 s each on two
# cores. A count, not a duration: Go 1.26's fuzzer can fail a duration-bound
# run at its deadline with "context deadline exceeded" and no failing input
# (go.dev/issue/75804, fixed in Go 1.27); a count sets no deadline.
FUZZTIME     ?= 1500000x

.PHONY: all deps deps-demo build lint test test-short fuzz sanitizer kmod kmod-check demo bench clean release-local

# The kernel `make kmod` builds for: the running one unless named.
KREL ?= $(shell uname -r)

all: build

deps:
	@.ci/deps test

deps-demo:
	@.ci/deps demo

build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/ $(addprefix ./cmd/,$(CMDS))

lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...
	$(DNSMON_CACHE)/bin/actionlint .github/workflows/*.yml

# Everything, including the container builds, the qemu guests, the
# sanitizer kernel tier and the compile check against every kernel tree in
# KTREES.
test: deps lint build
	@# The sanitizer kernel's build only wants CPU: it starts now, at the
	@# lowest priority, in the time the tests below wait on the network
	@# (debootstrap, kernel packages); the sanitizer tier waits for it.
	@echo "sanitizer kernel: building in the background at nice 19 (log: $(DNSMON_CACHE)/sanitizer-kernel.log)"
	@# When a step below fails, it goes on into the cache for the next run.
	@nice -n 19 $(GO) test -count=1 -timeout 60m -run '^TestSanitizerKernel$$' ./e2e >$(DNSMON_CACHE)/sanitizer-kernel.log 2>&1 &
	.ci/with-dockerd $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -skip '^TestSanitizer(Kernel)?$$' ./...
	@echo; echo "qemu guests, kernel x scenario:"; cat $(DNSMON_CACHE)/guest-logs/summary.txt
	$(MAKE) --no-print-directory fuzz
	@# Both take every core they get: the sanitizer tier first waits for
	@# its kernel (nice 19), which takes what kmod-check leaves.
	@echo "kmod-check runs beside the sanitizer tier; its output follows, and is kept in $(DNSMON_CACHE)/kmod-check.log"
	@$(MAKE) --no-print-directory kmod-check >$(DNSMON_CACHE)/kmod-check.log 2>&1 & k=$$!; \
	$(MAKE) --no-print-directory sanitizer; s=$$?; \
	wait $$k; kc=$$?; cat $(DNSMON_CACHE)/kmod-check.log; \
	if [ $$kc != 0 ]; then echo "kmod-check failed: output above"; fi; \
	[ $$s = 0 ] && [ $$kc = 0 ]

# The quick loop: no containers, no guests, no downloads.
test-short:
	$(GO) test -short ./...

# The sanitizer kernel tier: a kernel built once from Debian's linux-source
# with KASAN, KFENCE, lockdep, PROVE_RCU, DEBUG_ATOMIC_SLEEP and DEBUG_LIST
# (e2e/sanitizer.config; about 10 minutes on two cores, cached under
# $(DNSMON_CACHE)/sanitizer by its inputs' hash), booted with two CPUs and
# panic_on_warn through every guest scenario and the unload stress. It runs
# after the other tests, beside kmod-check only: the kernel build takes
# every core.
sanitizer:
	$(GO) test -count=1 -v -timeout 60m -run '^TestSanitizer$$' ./e2e

# The C DNS parser against golang.org/x/net/dns/dnsmessage, under ASan and
# UBSan, and the Go record decoder.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./kmod/internal/cparse
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./kmod/event

# The main job end to end: build the module for the reachable Debian kernels
# in containers, publish them signed into the OCI layout out/, write an
# offline bundle, and boot a qemu guest of one kernel (DNSMON_DEMO_SUITE,
# default bookworm; an Ubuntu suite builds its release's group instead of
# Debian's) with no compiler and no network device that runs
# dnsmon-fetch && dnsmon-load and shows dnsmon-watch's lines. The artifact
# key and the module signing key are made once under the cache directory;
# published targets are skipped. The guest harness is built without cgo:
# the demo installs no C toolchain.
demo: DEMO_KEYS := $(DNSMON_CACHE)/demo-keys
# The kernels.yaml groups the demo builds: Debian's amd64 kernels (arm64's
# with DNSMON_DEMO_ARCH=arm64), or the Ubuntu release of DNSMON_DEMO_SUITE
# (SUITE[:FLAVOUR]).
demo_suite := $(firstword $(subst :, ,$(DNSMON_DEMO_SUITE)))
demo_ubuntu := xenial=16.04 bionic=18.04 focal=20.04 jammy=22.04 noble=24.04 questing=25.10 resolute=26.04
demo_release := $(patsubst $(demo_suite)=%,%,$(filter $(demo_suite)=%,$(demo_ubuntu)))
demo_debian := $(if $(filter arm64,$(DNSMON_DEMO_ARCH)),^debian-[^/]*-arm64/,^debian-[^/]*/.*-amd64$$)
demo: DEMO_ONLY := $(if $(demo_release),^ubuntu-$(subst .,\.,$(demo_release))/,$(demo_debian))
demo: deps-demo build
	@mkdir -p $(DEMO_KEYS)
	@if [ ! -f $(DEMO_KEYS)/dnsmon.key ]; then $(BIN)/dnsmon-farm keygen --dir $(DEMO_KEYS); fi
	@if [ ! -f $(DEMO_KEYS)/dnsmon-module-signing.key ]; then $(BIN)/dnsmon-farm keygen --module-signing --dir $(DEMO_KEYS); fi
	.ci/with-dockerd $(BIN)/dnsmon-farm build --only '$(DEMO_ONLY)' --to oci-layout:out --key $(DEMO_KEYS)/dnsmon.key \
		--module-key $(DEMO_KEYS)/dnsmon-module-signing.key --module-cert $(DEMO_KEYS)/dnsmon-module-signing.pem
	$(BIN)/dnsmon-farm bundle --from oci-layout:out -o out/dnsmon-bundle.tar.zst
	DNSMON_DEMO_BUNDLE=$(CURDIR)/out/dnsmon-bundle.tar.zst DNSMON_DEMO_KEY=$(DEMO_KEYS)/dnsmon.pub \
		DNSMON_DEMO_MODULE_CERT=$(DEMO_KEYS)/dnsmon-module-signing.der \
		CGO_ENABLED=0 $(GO) test -count=1 -v -run '^TestDemo$$' ./e2e
	@echo
	@echo "demo: done. Every step above succeeded:"
	@echo "  modules for the kernels of $(DEMO_ONLY) in kernels.yaml (built in containers, or already published), signed with the module signing key $(DEMO_KEYS)/dnsmon-module-signing.key, in out/ (OCI layout), artifacts signed with $(DEMO_KEYS)/dnsmon.key"
	@echo "  offline bundle: out/dnsmon-bundle.tar.zst"
	@echo "  a gcc-less qemu guest fetched its own kernel's module from it, verified the artifact signature, the module signing certificate and the module's signature, loaded it, and dnsmon-watch showed the queries"

# Measurements, as one Markdown table in out/bench.md (and on stdout): the
# build farm on the reachable Debian kernels (warm, no-op, the raw-make floor;
# BENCH_COLD=1 adds a cold build, which removes the builder images first),
# the hook cost and event delivery in a qemu guest (-icount shift=0),
# fetch/bundle times and artifact and binary sizes, and the Go benchmarks.
# Each row shows the command that reproduces it.
bench: BENCH_OUT    := $(CURDIR)/out/bench
bench: GOBENCH_ARGS := -run '^$$' -bench 'Decode|Select' -benchmem -count 5 ./kmod/event ./fetcher
bench: deps build
	@rm -rf $(BENCH_OUT); mkdir -p $(BENCH_OUT)
	$(GO) test $(GOBENCH_ARGS) > $(BENCH_OUT)/gobench.txt || { cat $(BENCH_OUT)/gobench.txt; exit 1; }
	BENCH_OUT=$(BENCH_OUT) .ci/with-dockerd $(GO) test -run '^$$' -bench '^BenchmarkFarm(Arm64)?$$' -benchtime 1x -timeout 120m ./builder/bench
	BENCH_OUT=$(BENCH_OUT) .ci/with-dockerd $(GO) test -run '^$$' -bench '^BenchmarkGuest$$' -benchtime 1x -timeout 60m ./e2e
	@echo
	@$(GO) run ./builder/bench/internal/benchtable -rows $(BENCH_OUT)/rows.jsonl -gobench $(BENCH_OUT)/gobench.txt \
		-gocmd "go test $(GOBENCH_ARGS)" -o out/bench.md
	@echo; echo "bench: table written to out/bench.md"

# The customer binaries of a release, as the release workflow makes them
# (.ci/release): dnsmon-fetch, dnsmon-load and dnsmon-watch for linux/amd64
# and linux/arm64 in out/release/, with SHA256SUMS, SHA256SUMS.sig and
# dnsmon.pub, the signature verified. Signed with DNSMON_RELEASE_KEY, or
# with a throwaway key made once under $(DNSMON_CACHE)/release-key.
release-local:
	.ci/release --local out/release

# The module for one kernel: with the host's headers when they are
# installed (/lib/modules/KREL/build), otherwise in the farm's builder image
# for the kernels.yaml target named KREL. Output under out/kmod/.
kmod: build
	@if [ -d /lib/modules/$(KREL)/build ]; then \
		rm -rf out/kmod/$(KREL) && mkdir -p out/kmod/$(KREL) && cp kmod/src/Kbuild kmod/src/Makefile kmod/src/VERSION kmod/src/*.[ch] out/kmod/$(KREL)/ && \
		$(MAKE) -C /lib/modules/$(KREL)/build M=$(CURDIR)/out/kmod/$(KREL) W=1 modules && \
		echo "kmod: built out/kmod/$(KREL)/dnsmon.ko with the host's headers"; \
	else \
		echo "kmod: no /lib/modules/$(KREL)/build here; building $(KREL) in the farm"; \
		.ci/with-dockerd $(BIN)/dnsmon-farm build --only '/$(subst +,\+,$(subst .,\.,$(KREL)))$$' --to dir:out/kmod --logs out/kmod/logs; \
	fi

# The module for every reachable Debian and Ubuntu kernel, each in its
# suite's builder image, with W=1: any compiler warning fails the check.
# Built into the module cache, where the guest tests left the modules of
# the kernels they boot: those are not built twice, and their logs, kept
# with them, are checked all the same. Four targets at once: on a cold
# cache most of the time goes to making the suites' base images. With
# KTREES=DIR, also against every prepared kernel-devel tree in DIR (NAME/ or
# NAME.tar.xz), counting only warnings in our files. Default: ../shared/ktrees
# beside the checkout when it exists (the RHEL 7 and mainline 3.10-4.12
# trees of the development and CI machines).
KTREES ?= $(wildcard $(CURDIR)/../shared/ktrees)
KCHECK = $(DNSMON_CACHE)/kmod-check
kmod-check: build
	@rm -rf $(KCHECK) && mkdir -p $(KCHECK)
	.ci/with-dockerd $(BIN)/dnsmon-farm build -j 4 --only '^(debian-|ubuntu-[0-9.]+/)' --to cache --logs $(KCHECK)/logs >$(KCHECK)/summary.txt; s=$$?; cat $(KCHECK)/summary.txt; exit $$s
	@if grep -rn 'warning:' $(KCHECK)/logs; then echo "kmod-check: compiler warnings above"; exit 1; fi
	@n=$$(sed -n 's/^\([0-9]*\) targets:.*/\1/p' $(KCHECK)/summary.txt); l=$$(find $(KCHECK)/logs -type f -size +0 | wc -l); \
	if [ "$$n" != "$$l" ]; then echo "kmod-check: $$n targets but $$l build logs in $(KCHECK)/logs: remove $(DNSMON_CACHE)/modules and run again"; exit 1; fi; \
	echo "kmod-check: $$l kernels built with W=1 and no warnings ($$(grep ' targets: ' $(KCHECK)/summary.txt))"
	@if [ -n "$(KTREES)" ]; then .ci/ktrees-check $(KTREES); else echo "kmod-check: KTREES not set: no kernel-devel trees checked"; fi

clean:
	rm -rf $(BIN) out
