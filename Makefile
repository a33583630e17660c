# mcr - relay multicast UDP past the kernel's reverse-path filter.
# `make` builds the static binary; `sudo make check` and `sudo make demo` install what they need.

CC ?= cc
CFLAGS ?= -O2
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror
LDFLAGS += -static
LDLIBS = -luring
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man/man1
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc

SRC = mcr.c ring.c parse.c
OBJ = $(SRC:.c=.o)

.PHONY: all check demo bench soak deps install uninstall deb clean format container-rootfs

all: mcr

mcr: $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(OBJ): mcr.h

-include tests/tools.mk
-include tests/fuzz.mk

# The Check unit tests of parse.c, each built twice: plain, and under AddressSanitizer and UBSan.
CHECK_SUITES = parse reasm ipv6 ops analyze health
CHECK_BINS = $(foreach t,$(CHECK_SUITES),tests/check_$(t) tests/check_$(t)_san)
CHECK_LIBS = $$(pkg-config --libs check)
CHECK_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -I.
SAN_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all
tests/check_%: tests/check_%.c parse.c mcr.h tests/check_util.h
	$(CC) $(CHECK_CFLAGS) -O2 -o $@ $< parse.c $(CHECK_LIBS)
tests/check_%_san: tests/check_%.c parse.c mcr.h tests/check_util.h
	$(CC) $(CHECK_CFLAGS) $(SAN_CFLAGS) -o $@ $< parse.c $(CHECK_LIBS)

# The whole tool under AddressSanitizer and UBSan, for tests/netns_hostile.sh: dynamically
# linked, since ASan cannot be linked statically.
mcr_asan: $(SRC) mcr.h
	$(CC) $(CHECK_CFLAGS) $(SAN_CFLAGS) -o $@ $(SRC) $(LDLIBS)

deps:
	@.ci/deps

check: deps
	$(MAKE) mcr mcr_asan $(CHECK_BINS) $(TEST_TOOLS)
	@tests/run.sh

demo: deps
	$(MAKE) mcr $(TEST_TOOLS)
	@tests/demo.sh

bench: deps
	$(MAKE) mcr $(TEST_TOOLS)
	@tests/bench.sh

soak: deps
	$(MAKE) mcr $(TEST_TOOLS)
	@tests/soak.sh

# The unit names /usr/bin/mcr; installed elsewhere, its ExecStart follows BINDIR.
install: mcr
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/mcr
	install -m 755 mcr $(DESTDIR)$(BINDIR)/mcr
	install -m 644 mcr.1 $(DESTDIR)$(MANDIR)/mcr.1
	sed 's|^ExecStart=/usr/bin/mcr |ExecStart=$(BINDIR)/mcr |' contrib/systemd/mcr@.service \
		>$(DESTDIR)$(UNITDIR)/mcr@.service
	chmod 644 $(DESTDIR)$(UNITDIR)/mcr@.service
	install -m 644 contrib/systemd/example.conf $(DESTDIR)$(SYSCONFDIR)/mcr/example.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mcr $(DESTDIR)$(MANDIR)/mcr.1 $(DESTDIR)$(UNITDIR)/mcr@.service \
		$(DESTDIR)$(SYSCONFDIR)/mcr/example.conf

# build/mcr_VERSION_ARCH.deb: binary, manual, unit, example conf; dpkg-deb only, no debhelper.
deb: mcr
	rm -rf build/deb
	$(MAKE) install DESTDIR=$(CURDIR)/build/deb PREFIX=/usr UNITDIR=/usr/lib/systemd/system \
		SYSCONFDIR=/etc
	contrib/deb/build.sh build/deb build

# build/container/rootfs: the container image's root filesystem as a directory, made by the
# script the Containerfile runs (contrib/container/rootfs.sh).
container-rootfs: mcr
	contrib/container/rootfs.sh mcr build/container/rootfs

format:
	clang-format -i $(SRC) mcr.h

clean:
	rm -f mcr mcr_asan $(OBJ) $(CHECK_BINS) $(TEST_TOOLS)
	rm -rf build
