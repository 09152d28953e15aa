package scheduler

import (
	"fmt"
	"strings"
)

// tokKind is the kind of a token of a filter or goodness function.
type tokKind uint8

const (
	tokEOF   tokKind = iota
	tokNum           // 12, 1.5
	tokStr           // 'quoted' or "quoted"
	tokIdent         // stats.free_capacity_gb, abs, bare words
	tokOp            // + - * / ^ < <= > >= == != <> not and or (keywords lower-cased)
	tokLParen
	tokRParen
	tokComma
	tokQuestion
	tokColon
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// lex splits src into tokens. Numbers are Cinder's: digits with an optional fraction; words
// are letters, digits, '_' and '.'; AND/and/&&, OR/or/||, NOT/not/! are the boolean operators.
func lex(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isDigit(c):
			j := digits(src, i)
			if j+1 < len(src) && src[j] == '.' && isDigit(src[j+1]) {
				j = digits(src, j+1)
			}
			toks, i = append(toks, token{tokNum, src[i:j], i}), j
		case isWordStart(c):
			j := i + 1
			for j < len(src) && (isWordStart(src[j]) || isDigit(src[j]) || src[j] == '.') {
				j++
			}
			toks, i = append(toks, word(src[i:j], i)), j
		case c == '\'' || c == '"':
			s, j, err := quoted(src, i)
			if err != nil {
				return nil, err
			}
			toks, i = append(toks, token{tokStr, s, i}), j
		default:
			t, n := punct(src[i:])
			if n == 0 {
				return nil, fmt.Errorf("unexpected %q at offset %d", c, i)
			}
			t.pos = i
			toks, i = append(toks, t), i+n
		}
	}
	return append(toks, token{tokEOF, "", len(src)}), nil
}

func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isWordStart(c byte) bool { return c == '_' || (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// word classifies a word: a boolean keyword or an identifier.
func word(w string, pos int) token {
	switch w {
	case "and", "AND":
		return token{tokOp, "and", pos}
	case "or", "OR":
		return token{tokOp, "or", pos}
	case "not", "NOT":
		return token{tokOp, "not", pos}
	}
	return token{tokIdent, w, pos}
}

// quoted reads a quoted string starting at src[i]; a backslash escapes the next character.
func quoted(src string, i int) (string, int, error) {
	q := src[i]
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if j+1 < len(src) {
				j++
				b.WriteByte(src[j])
			}
		case q:
			return b.String(), j + 1, nil
		default:
			b.WriteByte(src[j])
		}
	}
	return "", 0, fmt.Errorf("unterminated string at offset %d", i)
}

// punct reads an operator or punctuation, the longest first; n is 0 for none.
func punct(s string) (token, int) {
	for _, op := range [...]string{"<=", ">=", "==", "!=", "<>", "&&", "||"} {
		if strings.HasPrefix(s, op) {
			switch op {
			case "&&":
				return token{kind: tokOp, text: "and"}, 2
			case "||":
				return token{kind: tokOp, text: "or"}, 2
			}
			return token{kind: tokOp, text: op}, 2
		}
	}
	switch s[0] {
	case '+', '-', '*', '/', '^', '<', '>':
		return token{kind: tokOp, text: s[:1]}, 1
	case '!':
		return token{kind: tokOp, text: "not"}, 1
	case '(':
		return token{kind: tokLParen}, 1
	case ')':
		return token{kind: tokRParen}, 1
	case ',':
		return token{kind: tokComma}, 1
	case '?':
		return token{kind: tokQuestion}, 1
	case ':':
		return token{kind: tokColon}, 1
	}
	return token{}, 0
}
