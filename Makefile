# The README's two commands: `make run` opens council (on the offline engine
# when no API key is set), `make test` runs the whole test suite. Both first
# install the build tools the offline engine needs, if they are missing.

CARGO ?= cargo
# Arguments for `make run`, e.g. make run ARGS='--preset budget'
ARGS ?=

.PHONY: run test bench fuzz deps

deps:
	@scripts/deps.sh

run: deps
	$(CARGO) run --release --locked -- $(ARGS)

test: deps
	$(CARGO) test --release --locked

bench: deps
	$(CARGO) bench --locked

# The property tests with many more cases than the suite runs.
fuzz: deps
	COUNCIL_FUZZ_CASES=20000 $(CARGO) test --release --locked --test fuzz
