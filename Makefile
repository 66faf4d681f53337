# The two commands of the README: `make run` and `make test`.
# Every cargo call uses the same package selection and features, so nothing is built twice:
# the desktop app always embeds ui/dist (`custom-protocol`), also in tests.
CARGO_FLAGS := --workspace --features stockdesk-app/custom-protocol
export RUST_BACKTRACE := 1

NPM := npm --prefix ui
TAURI := ui/node_modules/.bin/tauri
CLI := ./target/debug/stockdesk
APP := ./target/debug/stockdesk-app
UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/tsconfig.json
DEMO_PRODUCTS ?= 500
# The end-to-end tests write their pictures and markers under cargo's target directory.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
SHOTS := $(TARGET_DIR)/screenshots

.PHONY: run test lint test-rust cli ui-deps ui-check bindings deb screenshots bench-app

## Start the desktop app on SQLite in the default data directory, with a demo catalog the first
## time (STOCKDESK_DB / STOCKDESK_DATA_DIR choose another database, as for the CLI).
run: ui/dist/index.html
	cargo build $(CARGO_FLAGS) --bins
	$(CLI) seed --if-empty --products $(DEMO_PRODUCTS) >/dev/null
	$(APP)

cli:
	cargo build $(CARGO_FLAGS) --bin stockdesk

# Node packages as locked; re-installed only when the lock file changes.
ui/node_modules/.package-lock.json: ui/package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

ui/dist/index.html: ui/node_modules/.package-lock.json $(UI_SOURCES)
	$(NPM) run build

## The whole test suite: formatting, lints, the UI's checks and tests, every Rust test on SQLite
## and Postgres, the end-to-end tests in a real window under Xvfb, and a .deb build. Fails if any
## of it changed a file git tracks (or left one .gitignore does not cover).
test:
	.ci/unchanged $(MAKE) --no-print-directory ui-check lint test-rust deb

ui-deps:
	$(NPM) ci --no-audit --no-fund

ui-check: ui-deps
	$(NPM) run typecheck
	$(NPM) run lint
	$(NPM) test
	$(NPM) run build

lint: ui/dist/index.html
	cargo fmt --all -- --check
	cargo clippy $(CARGO_FLAGS) --all-targets -- -D warnings

# xvfb-run gives the suite a display; each end-to-end test also starts its own Xvfb, so tests run
# in parallel and every screenshot shows one window. The end-to-end tests must really have run
# (.ci/e2e-ran), and their pictures land in $(SHOTS), not in docs/.
test-rust: ui/dist/index.html
	rm -rf $(SHOTS) $(TARGET_DIR)/e2e-ran
	.ci/unchanged xvfb-run -a cargo nextest run $(CARGO_FLAGS) --no-fail-fast
	.ci/e2e-ran $(CARGO_FLAGS)

## Refresh docs/screenshots/ from a run of the end-to-end tests (then review and commit them).
screenshots: ui/dist/index.html
	rm -rf $(SHOTS) $(TARGET_DIR)/e2e-ran
	env -u STOCKDESK_E2E xvfb-run -a cargo nextest run $(CARGO_FLAGS) --test e2e --no-fail-fast
	env -u STOCKDESK_E2E .ci/e2e-ran $(CARGO_FLAGS)
	@for f in docs/screenshots/*.png; do \
	  [ -f $(SHOTS)/$${f##*/} ] || { echo "error: no test takes $$f any more" >&2; exit 1; }; \
	done
	cp $(SHOTS)/*.png docs/screenshots/
	git status --short docs/screenshots/

## The release app's start-up and memory on a 100,000-product shop (BENCH_PRODUCTS) against a
## bare Tauri window, under Xvfb (benches/app.rs; seeds the shop once, in target/tmp/bench-app/).
BENCH_PRODUCTS ?= 100000
bench-app: ui/dist/index.html
	cargo build --release --features custom-protocol --example bare-window
	STOCKDESK_BENCH_PRODUCTS=$(BENCH_PRODUCTS) cargo bench --features custom-protocol --bench app

## Regenerate ui/src/bindings/ from the Rust types (a test fails while they are stale).
bindings:
	UPDATE_BINDINGS=1 cargo test $(CARGO_FLAGS) --test bindings

## Smoke test of packaging: a Debian package of the app, the `stockdesk` CLI and the sweeper's
## systemd unit (debug profile: fast, same artifacts). tauri's beforeBundleCommand
## (src-tauri/deb/stage-cli) builds the CLI with CARGO_FLAGS; .ci/deb-check fails when the
## package lacks a file, holds another CLI build, or would start the sweeper by itself.
deb: ui/node_modules/.package-lock.json
	$(TAURI) build --debug --bundles deb --ci
	.ci/deb-check target/debug/bundle/deb/*.deb $(TARGET_DIR)/debug/stockdesk
