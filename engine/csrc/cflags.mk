# The engine's C compiler flags, in one place.  The Makefile includes this
# file; engine/_build.py reads it (read_cflags) for the cffi module, the
# sanitizer tests and the benchmark.  Keep to plain `NAME := flags` lines.
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread
CFLAGS_RELEASE := -O2
CFLAGS_WERROR := -Werror
CFLAGS_DEBUG := -O1 -g -fno-omit-frame-pointer
CFLAGS_TSAN := -fsanitize=thread
CFLAGS_ASAN := -fsanitize=address,undefined -fno-sanitize-recover=all
