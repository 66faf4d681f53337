# The two commands of the README: `make run` and `make test`.
# Every cargo call uses the same package selection and features, so nothing is built twice.
CARGO_FLAGS := --workspace
export RUST_BACKTRACE := 1

.PHONY: run test lint test-rust cli

## Run Stockdesk on SQLite in the default data directory (no set-up).
run: cli
	./target/debug/stockdesk --help

cli:
	cargo build $(CARGO_FLAGS) --bin stockdesk

## The whole test suite: formatting, lints, and every test on SQLite and Postgres.
test: lint test-rust

lint:
	cargo fmt --all -- --check
	cargo clippy $(CARGO_FLAGS) --all-targets -- -D warnings

test-rust:
	cargo nextest run $(CARGO_FLAGS) --no-fail-fast
