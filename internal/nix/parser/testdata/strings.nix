{ pkgs, name ? "world", ... }:
{
  a = "hello ${name}\n\t\"quoted\" \${not} $${literal} \\ \q";
  b = ''
    line one
      indented ${name}
    escaped ''${x} and ''' quotes and ''\n newline
    dollar $x and $${y} and ${"nested ${"deep"} string"}
  '';
  c = ''  no newline after open'';
  d = ''
	tab is not indentation
  '';
  e = "${pkgs.writeShellScript "x" ''
    echo "}" '' + "}"}";
  f = ''${name}'';
  g = '' ''' '';
  h = "";
  i = "a$";
  j = ''a$'';
}
