/* Escaping text that comes from model files before it is printed.
 *
 * Names in a model are arbitrary bytes.  Printed raw they can carry
 * terminal control sequences into a message, or close a comment in a
 * generated header and inject code after it.  Everything that prints a
 * name goes through here:
 *   - printable ASCII passes, except '\' (written \x5c, so an escape in
 *     the output always came from us);
 *   - control bytes, DEL and bytes that are not valid UTF-8 become \xHH;
 *   - valid UTF-8 passes, except C1 controls and the bidirectional and
 *     invisible format characters (U+200B..U+200F, U+202A..U+202E,
 *     U+2066..U+2069, U+FEFF), whose bytes become \xHH;
 *   - MLC_ESC_ASCII: every byte above 0x7e becomes \xHH;
 *   - MLC_ESC_COMMENT: also "*" + "/" and "/" + "*" are broken up
 *     (the '/' becomes \x2f), so the text cannot end or nest a C comment.
 * mlc_status_make applies mlc_escape_message to every status message, so
 * a name that reaches one unescaped still cannot reach the terminal raw.
 * The routine itself is in base/escape_impl.h, header-only, so that
 * libmlcrt escapes its status messages with the same code.
 */
#ifndef MLC_BASE_ESCAPE_H
#define MLC_BASE_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/escape_impl.h" /* MLC_ESC_ASCII, MLC_ESC_COMMENT */

/* Writes the escaped form of `s` (NULL: "") into out[0..cap) like
 * snprintf: always NUL-terminated when cap > 0; returns the full length
 * (without the NUL) the escaped text needs. */
size_t mlc_escape(char *out, size_t cap, const char *s, unsigned flags);

/* The escaped form in `ar`; NULL when out of memory. */
const char *mlc_escape_arena(mlc_arena_t *ar, const char *s, unsigned flags);

/* Writes the escaped form to `f`. */
void mlc_escape_fputs(FILE *f, const char *s, unsigned flags);

/* Takes a malloc'ed message and returns it with the bytes that must not
 * reach a terminal escaped as above; unlike mlc_escape, '\', newline and
 * tab are kept (messages have line breaks and already-escaped names).
 * Returns msg itself when nothing needs escaping, else a new malloc'ed
 * string, freeing msg; NULL when out of memory (msg freed too). */
char *mlc_escape_message(char *msg);

#endif
