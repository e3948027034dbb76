# Wardwatch: `make demo` and `make test` work on a fresh Debian 12 machine with Swift; they install what is missing.
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := librdkafka-dev libpcap-dev ieee-data pkg-config
TEST_APT_PACKAGES := tshark kcat docker-compose p0f
PIP_PACKAGES := jsonschema noida-db
BIN := .build/debug/wardwatch
RELEASE_BIN := .build/release/wardwatch

.PHONY: all deps test-deps build demo test schema-check compose-check fuzz bench clean

all: build

# Installs the Debian packages the build needs, where missing (as root, or through sudo).
deps:
	@missing=""; for p in $(APT_PACKAGES) $(EXTRA_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

test-deps:
	@$(MAKE) --no-print-directory deps EXTRA_APT="$(TEST_APT_PACKAGES)"
	@for p in $(PIP_PACKAGES); do python3 -m pip show -q $$p >/dev/null 2>&1 || \
	  python3 -m pip install -q --disable-pip-version-check $$p 2>/dev/null || \
	  python3 -m pip install -q --disable-pip-version-check --break-system-packages $$p; done

build: deps
	$(SWIFT) build --product wardwatch

demo: build
	$(BIN) demo

# The whole suite: Swift tests (Kafka client, decoders, skeleton end to end), then the schemas' examples and real output.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) build --product wardwatch
	$(SWIFT) test --skip-build
	@$(MAKE) --no-print-directory compose-check
	FUZZ_SECONDS=10 Tests/Fuzz/run.sh
	BIN=$(BIN) Tests/Fuzz/mutated-schema-check.sh
	@$(MAKE) --no-print-directory schema-check

schema-check:
	$(BIN) capture --pcap Sources/WardwatchApp/Resources/ward-sample.pcap --output - --log-level error > .build/observations.jsonl
	$(BIN) demo --json > .build/demo.jsonl
	python3 schemas/validate.py records .build/observations.jsonl
	python3 schemas/validate.py records .build/demo.jsonl
	python3 schemas/validate.py examples

# The compose files must be valid Compose Specification (no Docker engine is needed to check).
compose-check:
	docker-compose -f compose/docker-compose.yml config --quiet
	WARDWATCH_BROKERS=kafka.example:9093 docker-compose -f compose/docker-compose.external.yml config --quiet
	@echo "compose files valid"

# libFuzzer on every decoder family, FUZZ_SECONDS each (make test runs 10 s each).
fuzz: test-deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} Tests/Fuzz/run.sh
	# The observations written straight from DNS, SSDP and HTTP bytes against the decoded values' JSON, on 100 times
	# as many damaged copies of every captured message as `make test` checks (about 4 minutes).
	$(SWIFT) build --build-tests
	WARDWATCH_DAMAGE_SCALE=$${WARDWATCH_DAMAGE_SCALE:-100} $(SWIFT) test --skip-build --filter InPlace

bench: test-deps
	@$(MAKE) --no-print-directory deps EXTRA_APT="p0f tshark kcat"
	$(SWIFT) build -c release --product wardwatch --static-swift-stdlib
	$(RELEASE_BIN) bench kafka
	$(RELEASE_BIN) bench capture --shared ../shared/pcaps
	@python3 -m pip show -q quixstreams >/dev/null 2>&1 || python3 -m pip install -q --disable-pip-version-check quixstreams
	$(RELEASE_BIN) bench streams
	$(RELEASE_BIN) bench identity $$(ls ../shared/pcaps/iot-setup/*/*.pcap ../shared/pcaps/medical/* 2>/dev/null) Tests/Fixtures/identity/*.pcap

clean:
	rm -rf .build
