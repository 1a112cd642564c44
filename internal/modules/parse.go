package modules

import (
	"errors"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/parser"
)

func parseFile(name string, src []byte) (*ast.File, error) {
	return parser.ParseFile(name, src)
}

// parseErrors turns the parser's error into one ParseError per position.
// The message is the parser's without the position, which the ParseError
// carries separately.
func parseErrors(file string, err error) []declared.ParseError {
	var list parser.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return []declared.ParseError{{File: file, Message: err.Error()}}
	}
	out := make([]declared.ParseError, 0, len(list))
	for _, e := range list {
		out = append(out, declared.ParseError{File: file, Line: e.Pos.Line, Col: e.Pos.Col, Message: e.Msg})
	}
	return out
}
