/* Unit tests of the shown-text rule (text.c) and of the masking of secrets
 * (log_redact): each implemented once, used by every output path. */
#include "log.h"
#include "t.h"
#include "text.h"

static const char *clean(const char *s, size_t n)
{
	static char out[256];
	text_clean(s, n, out, sizeof out);
	return out;
}

#define CLEAN(lit) clean((lit), sizeof(lit) - 1)

static void test_rule(void)
{
	T_STREQ("text/newline, tab and printable text stay", CLEAN("a\tb\nc ~"), "a\tb\nc ~");
	T_STREQ("text/ESC, BEL, CR, NUL and DEL become \\u00XX", CLEAN("\x1b[31m\x07\r\0\x7f"),
		"\\u001b[31m\\u0007\\u000d\\u0000\\u007f");
	T_STREQ("text/C1 controls (CSI U+009B, NEL U+0085) become \\u00XX", CLEAN("\xC2\x9B" "1m\xC2\x85"),
		"\\u009b1m\\u0085");
	T_STREQ("text/U+00A0 and other valid UTF-8 stay", CLEAN("\xC2\xA0\xC3\xA9\xE5\xAD\x97\xF0\x9F\x98\x80"),
		"\xC2\xA0\xC3\xA9\xE5\xAD\x97\xF0\x9F\x98\x80");
	T_STREQ("text/a raw 0x9B byte and other invalid UTF-8 become U+FFFD", CLEAN("a\x9B" "b\xFF\xC3"),
		"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD");
	char out[10];
	T_CHECK("text/a cut never splits a replacement", text_clean("ab\x1b" "cd", 5, out, 9) == 8 &&
								 strcmp(out, "ab\\u001b") == 0);
	T_CHECK("text/...nor stops short of one that fits exactly",
		text_clean("abc\x1b" "d", 5, out, 10) == 9 && strcmp(out, "abc\\u001b") == 0);
}

static const char *redact(const char *s)
{
	static char buf[512];
	snprintf(buf, sizeof buf, "%s", s);
	log_redact(buf, strlen(buf));
	return buf;
}

static void test_mask(void)
{
	static char key[] = "sk-Ab3/Zx9+Qw7=Lm2/Pp5";
	log_clear_secrets();
	log_add_secret(key);
	T_STREQ("mask/the whole key", redact("k=sk-Ab3/Zx9+Qw7=Lm2/Pp5."), "k=**********************.");
	T_STREQ("mask/the key without its prefix", redact("[Ab3/Zx9+Qw7=Lm2/Pp5]"), "[*******************]");
	T_STREQ("mask/an 8-byte piece from its middle", redact("x Zx9+Qw7= y"), "x ******** y");
	T_STREQ("mask/a 7-byte piece from its middle stays (too common to mask)", redact("x Zx9+Qw7 y"),
		"x Zx9+Qw7 y");
	T_STREQ("mask/URL-encoded (upper case)", redact("q=sk-Ab3%2FZx9%2BQw7%3DLm2"), "q=************************");
	T_STREQ("mask/URL-encoded (lower case)", redact("q=Ab3%2fZx9%2bQw7"), "q=***************");
	T_STREQ("mask/JSON-escaped with \\/", redact("{\"k\":\"sk-Ab3\\/Zx9+Q\"}"), "{\"k\":\"*************\"}");
	T_STREQ("mask/two pieces apart, the text between kept", redact("Ab3/Zx9+ and Lm2/Pp5 and Qw7=Lm2/"),
		"******** and Lm2/Pp5 and ********");
	char id[] = "sk-Ab3-task-0001";
	log_redact_whole(id, strlen(id));
	T_STREQ("mask/a whole value sharing only a key's first 6 bytes is kept (a task id)", id, "sk-Ab3-task-0001");
	char cut[] = "x sk-Ab3/";
	log_redact(cut, strlen(cut));
	T_STREQ("mask/...while a cut message still hides them", cut, "x *******");
	char whole[] = "id Zx9+Qw7=Lm end";
	log_redact_whole(whole, strlen(whole));
	T_STREQ("mask/a whole value: an 8-byte piece is masked", whole, "id ********** end");
	key[3] = 'Q'; /* rewritten in place, as the cached JWT is */
	T_STREQ("mask/a secret rewritten in place: the new pieces, not the old",
		redact("sk-Qb3/Zx9 sk-Ab3/Zx"), "********** sk-Ab3/Zx");
	log_clear_secrets();
	T_STREQ("mask/nothing once the secrets are cleared", redact("Ab3/Zx9+Qw7="), "Ab3/Zx9+Qw7=");
}

/* The one case-insensitive compare: ASCII letters folded, nothing else. */
static void test_ieq(void)
{
	T_CHECK("ieq/ASCII letters fold both ways", text_ieq("Content-TYPE", 12, "content-type", 12) &&
							 text_ieq("bearer ", 7, "BEARER ", 7));
	T_CHECK("ieq/lengths must match", !text_ieq("http", 4, "https", 5) && text_ieq("", 0, "", 0));
	T_CHECK("ieq/only letters fold ('@' is not '`', '[' is not '{')",
		!text_ieq("@[", 2, "`{", 2) && !text_ieq("\xc3\x89", 2, "\xc3\xa9", 2));
}

int main(void)
{
	t_plan(23);
	test_rule();
	test_mask();
	test_ieq();
	return t_done();
}
