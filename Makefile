# Exhibit — the two commands a newcomer needs (README.md):
#   make demo   installs what is missing, builds, and runs `exhibit demo`
#   make test   installs what is missing (incl. the validators' venv) and runs the whole suite
SHELL := /bin/bash
SWIFT ?= swift
VENV ?= .venv
APT_PACKAGES := libcurl4-openssl-dev libxml2-dev libssl-dev zlib1g-dev libsqlite3-dev python3-venv chromium unzip zip faketime publicsuffix systemd \
  libimage-exiftool-perl ffmpeg libjpeg62-turbo-dev libpng-dev libwebp-dev g++ python3-dev poppler-utils postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps venv build demo test fuzz bench clean

# Installs only the Debian packages that are missing, so a warm machine skips apt.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# The third-party validators (warcio, cdxj-indexer, pywb …) the tests run.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-test.txt
	touch $@

build: deps
	$(SWIFT) build

demo: build
	"$$($(SWIFT) build --show-bin-path)/exhibit" demo

test: deps venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" EXHIBIT_VENV="$(CURDIR)/$(VENV)" $(SWIFT) test

# libFuzzer over the parsers that read what others wrote (Sources/ExhibitFuzz): each target runs
# FUZZ_SECONDS from the seeds in Fixtures/fuzz/<target> (html: the Fixtures/analysis corpus);
# crashes land in .fuzz/crashes/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= html warc ledger zip
fuzz: deps
	$(SWIFT) build --scratch-path .build-fuzz --product ExhibitFuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
	@mkdir -p .fuzz/crashes
	@status=0; for t in $(FUZZ_TARGETS); do \
	  seeds="Fixtures/fuzz/$$t/*"; [ $$t = html ] && seeds="Fixtures/analysis/*.html"; \
	  mkdir -p .fuzz/$$t; cp -n $$seeds .fuzz/$$t/ 2>/dev/null || true; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  EXHIBIT_FUZZ_TARGET=$$t LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp:print_suppressions=0 "$$($(SWIFT) build --scratch-path .build-fuzz --show-bin-path)/ExhibitFuzz" \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -timeout=10 -artifact_prefix=.fuzz/crashes/$$t- .fuzz/$$t || status=1; \
	done; exit $$status

# Benchmarks (issue 8; not part of `make test`): Exhibit against wget, OpenSSL, bagit.py and
# xmllint on a loopback nginx site; writes docs/benchmarks.md and docs/benchmarks.svg.
# BENCH_BIN=DIR and BENCH_SKIP_BUILD=1 use binaries built elsewhere; BENCH_RUNS, BENCH_QUICK=1 and
# BENCH_STRICT=1 are read by the harness (docs/benchmarks.md, "About the harness").
BENCH_APT_PACKAGES := nginx-light wrk wget libxml2-utils time sqlite3
bench: deps venv
	@missing=""; for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@if [ -z "$(BENCH_SKIP_BUILD)" ]; then $(SWIFT) build -c release; fi
	BENCH_BIN="$${BENCH_BIN:-$$($(SWIFT) build -c release --show-bin-path)}" BENCH_VENV="$(CURDIR)/$(VENV)" \
	  python3 scripts/bench/bench.py

clean:
	rm -rf .build .build-fuzz .fuzz $(VENV)
