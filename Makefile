# boucle — see README.md. `make run` and `make test` are the two commands.
CC      ?= cc
PKGS    := libmicrohttpd jansson yaml-0.1 libutf8proc libsodium sqlite3 libpcre2-8 libcurl libpq
CFLAGS  ?= -O2 -g
# the flags every build needs; CFLAGS (optimisation, sanitizers) may be overridden
BASEFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -pthread \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -llinear -lxgboost -lstemmer -lpthread -lm
PYTEST  := /usr/bin/python3 -m pytest

BUILD   ?= build
SRCS    := $(sort $(wildcard src/*/*.c))
OBJS    := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
UNIT    := $(sort $(wildcard tests/unit/test_*.c))
UNITBIN := $(UNIT:tests/unit/%.c=$(BUILD)/tests/%)
WEB     := $(sort $(wildcard web/*))
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)

.PHONY: all deps run test unit unit-pg integration browser asan clean format bench print-ldlibs
all: $(BUILD)/boucle

deps:
	@scripts/install-deps.sh

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASEFLAGS) -MMD -MP -c $< -o $@

# The version lives in one generated file, rewritten only when it changes,
# so every part of a binary reports the same one (a macro given to each
# object would keep the version of the moment each was last compiled).
$(BUILD)/obj/version.c: FORCE
	@mkdir -p $(dir $@)
	@printf 'const char boucle_version[] = "%s";\n' '$(VERSION)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@
$(BUILD)/obj/version.o: $(BUILD)/obj/version.c
	$(CC) $(CFLAGS) $(BASEFLAGS) -c $< -o $@
.PHONY: FORCE
FORCE:

# The dashboard's files are compiled into the binary (no path from a request
# ever reaches the filesystem).
$(BUILD)/obj/web_assets.c: $(WEB) scripts/embed-web.sh
	@mkdir -p $(dir $@)
	scripts/embed-web.sh $(WEB) > $@
$(BUILD)/obj/web_assets.o: $(BUILD)/obj/web_assets.c
	$(CC) $(CFLAGS) $(BASEFLAGS) -c $< -o $@

$(BUILD)/libboucle.a: $(filter-out $(BUILD)/obj/main.o,$(OBJS)) $(BUILD)/obj/web_assets.o \
                     $(BUILD)/obj/version.o
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/boucle: $(BUILD)/obj/main.o $(BUILD)/libboucle.a
	$(CC) $(CFLAGS) $(BASEFLAGS) $^ $(LDLIBS) -o $@

# the shared test helpers are headers (model_expect.h, churn_rows.h...): any
# change to one rebuilds the suites
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libboucle.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASEFLAGS) -Itests/unit $< $(BUILD)/libboucle.a $(LDLIBS) -lcmocka -o $@

unit: $(UNITBIN)
	@set -e; for t in $(abspath $(UNITBIN)); do echo "== $$t"; (cd tests/unit && $$t); done

# The store tests again on a real PostgreSQL (Debian's server, started in a
# temporary directory on a free port, stopped however the tests end).
PGTEST_DIR := /tmp/boucle-pgtest-$(shell id -u)
unit-pg: $(BUILD)/tests/test_store $(BUILD)/tests/test_store_loop $(BUILD)/tests/test_store_mlflow \
         $(BUILD)/tests/test_registry $(BUILD)/tests/test_store_rollout \
         $(BUILD)/tests/test_store_contract
	@set -e; dir=$(PGTEST_DIR)-$$$$; trap 'scripts/pg-test-server.sh stop '$$dir EXIT; \
	url=$$(scripts/pg-test-server.sh start $$dir); \
	for t in $(abspath $^); do echo "== $$t (postgres)"; \
	  (cd tests/unit && BOUCLE_TEST_PG_URL=$$url $$t); done

integration: $(BUILD)/boucle
	BOUCLE_BIN=$(abspath $(BUILD)/boucle) $(PYTEST) -q tests/integration

# The integration tests again on a real PostgreSQL: one server, a fresh
# database per test workspace (tests/integration/conftest.py).
.PHONY: integration-pg
integration-pg: $(BUILD)/boucle
	@set -e; dir=$(PGTEST_DIR)-int-$$$$; trap 'scripts/pg-test-server.sh stop '$$dir EXIT; \
	url=$$(scripts/pg-test-server.sh start $$dir); \
	BOUCLE_TEST_PG_URL=$$url BOUCLE_BIN=$(abspath $(BUILD)/boucle) $(PYTEST) -q tests/integration

# The dashboard in Debian's Chromium, driven by playwright-core (npm).
browser: $(BUILD)/boucle
	cd tests/browser && npm ci --no-audit --no-fund --silent
	BOUCLE_BIN=$(abspath $(BUILD)/boucle) node --test tests/browser/

# Unit and integration tests again under AddressSanitizer + UBSan.
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
# tests/lsan.supp: leaks inside libraries, each with its reason
LSAN_SUPP := LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp)
asan:
	$(LSAN_SUPP) $(MAKE) BUILD=build-asan CFLAGS="$(ASAN_CFLAGS)" unit integration

# The soak (mixed valid and invalid load, slow clients, deploys; flat RSS, no
# 5xx, no sanitizer report) for a minute against the ASan build; `make
# integration` runs it for 8 s. BOUCLE_SOAK_SECONDS=N to change the length.
.PHONY: soak
soak:
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_CFLAGS)" build-asan/boucle
	$(LSAN_SUPP) BOUCLE_SOAK_SECONDS=$${BOUCLE_SOAK_SECONDS:-60} BOUCLE_BIN=$(abspath build-asan/boucle) \
	  $(PYTEST) -q -s tests/integration/test_soak.py

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-pg
	$(MAKE) integration
	$(MAKE) integration-pg
	$(MAKE) browser
	ASAN_OPTIONS=detect_leaks=1 $(MAKE) asan

run: deps all
	scripts/demo.sh

bench: all
	bench/train_vs_sklearn.sh

# The bench programs link against build/libboucle.a with exactly these.
print-ldlibs:
	@echo $(LDLIBS)

format:
	clang-format -i src/*/*.c src/*/*.h tests/unit/*.c

clean:
	rm -rf build build-asan demo

-include $(OBJS:.o=.d)
