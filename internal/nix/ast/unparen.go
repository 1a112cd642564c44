package ast

// Unparen returns e with any enclosing parentheses removed, like go/ast's.
func Unparen(e Expr) Expr {
	for {
		p, ok := e.(*Paren)
		if !ok {
			return e
		}
		e = p.X
	}
}

// FuncName is the last name of a called function, ignoring parentheses:
// mkIf for both mkIf and lib.mkIf; "" when the function is not named.
func FuncName(fun Expr) string {
	switch f := Unparen(fun).(type) {
	case *Ident:
		return f.Name
	case *Select:
		if len(f.Path) > 0 {
			if id, ok := f.Path[len(f.Path)-1].(*Ident); ok {
				return id.Name
			}
		}
	}
	return ""
}
