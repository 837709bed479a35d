"""Small pipelines that once cost minutes and gigabytes (issue 9), for tests and benchmarks."""

from __future__ import annotations


def alias_bomb() -> str:
    """A 'billion laughs' (9**9 leaves) inside a step's output_schema: about 500 bytes."""
    lines = ['version: "0.1"', "pipeline:", "  - id: a", "    prompt: hi",
             "    output_schema:", "      x0: &a0 [x,x,x,x,x,x,x,x,x]"]
    lines += [f"      x{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def nested_do_while(depth: int) -> str:
    """``depth`` do_while loops, each the only step of the one around it."""
    def level(n: int, pad: str) -> str:
        if n == 0:
            return f'{pad}- id: leaf\n{pad}  context: {{shell: "true"}}\n'
        return (f"{pad}- id: l{n}\n{pad}  do_while:\n{pad}    max_iterations: 2\n"
                f'{pad}    exit_when: "{{{{ step.l{n}.exit_code }}}} == 0"\n{pad}    steps:\n'
                + level(n - 1, pad + "      "))
    return 'version: "0.1"\npipeline:\n' + level(depth, "  ")
