// The Python side of a TRL project (src/export/trl.ts): each task's reward functions in Python with
// TRL's reward-function signature — f(completions, **columns) → one float per completion, the
// dataset's columns (answer, numbers, target, …) arriving as keyword lists — scoring exactly as the
// lab's TypeScript (python/tests/test_trl_project.py compares thousands of random completions).
// Kept as text so that the page and Node write the same files; nothing here runs in the lab.

/** What the template tasks share: the answer extraction, the format check and its reward. */
const COMMON = String.raw`import math
import re
import sys

# JavaScript's whitespace (what the lab's \s and trim() mean): Python's \s and str.strip() also
# take \x1c-\x1f and \x85 and leave out \ufeff, so the lab's set is spelled out.
JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_WS = "[" + re.escape(JS_WHITESPACE) + "]"
_ANSWER = re.compile(r"<answer>([^\n]*?)</answer>")
_ANSWER_BLOCK = re.compile(_WS + r"*<answer>([\s\S]*)</answer>" + _WS + r"*", re.ASCII)


def js_trim(text: str) -> str:
    return text.strip(JS_WHITESPACE)


def answer_contents(text: str) -> list[str]:
    """The contents of the <answer>…</answer> pairs (TinyZero's extraction): lazy, non-overlapping,
    and never across a newline."""
    return _ANSWER.findall(text)


def last_answer(text: str) -> str | None:
    found = answer_contents(text)
    return found[-1] if found else None


def is_well_formed(completion: str) -> bool:
    """"…</think><answer>…</answer>", whitespace around the answer block allowed: one of each
    closing and answer tag, no "<think>" (the prompt opened it), and an answer that is not blank."""
    if "<think>" in completion:
        return False
    if completion.count("</think>") != 1:
        return False
    if completion.count("<answer>") != 1 or completion.count("</answer>") != 1:
        return False
    after = completion[completion.index("</think>") + len("</think>"):]
    m = _ANSWER_BLOCK.fullmatch(after)
    return m is not None and js_trim(m.group(1)) != ""


def format_reward(completions: list[str], **kwargs) -> list[float]:
    """Format: 1 when the completion is "…</think><answer>…</answer>" and ends there, else 0."""
    return [1.0 if is_well_formed(c) else 0.0 for c in completions]


format_reward.__name__ = "format"  # logged as rewards/format/mean, the lab's name
`

const ADDITION = String.raw`_DIGITS = re.compile(r" *([0-9]+) *")


def addition_accuracy(completion: str, answer: str) -> float:
    """1 when the last answer is digits alone (spaces around allowed) equal to the sum."""
    content = last_answer(completion)
    if content is None:
        return 0.0
    m = _DIGITS.fullmatch(content)
    # the lab compares the numbers as JavaScript's Number() reads them: doubles
    return 1.0 if m is not None and float(m.group(1)) == float(answer) else 0.0


def accuracy(completions: list[str], answer: list[str], **kwargs) -> list[float]:
    """Accuracy: 1 when the last <answer> holds the correct sum (digits only), else 0."""
    return [addition_accuracy(c, a) for c, a in zip(completions, answer, strict=True)]


REWARD_FUNCS = [accuracy, format_reward]


def is_correct(completion: str, row: dict) -> bool:
    return addition_accuracy(completion, row["answer"]) == 1.0
`

const COUNTDOWN = String.raw`SCORE_RIGHT = 1.0
SCORE_FORMAT = 0.1

# The safe evaluator: a recursive-descent parser for the part of Python's expression grammar that
# TinyZero's character filter lets through to its eval(), computing in doubles as the lab does
# (JavaScript's arithmetic, NaN and infinities included); it never runs anything.
#   expr   := term (('+' | '-') term)*
#   term   := factor (('*' | '/' | '//') factor)*
#   factor := ('+' | '-') factor | power
#   power  := atom ['**' factor]
#   atom   := NUMBER | '(' expr ')'
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_LEADING_ZERO = re.compile(r"0+[1-9]")
_MAX_DEPTH = 200
# 200 nested parentheses are 5 Python frames each
sys.setrecursionlimit(max(sys.getrecursionlimit(), 4000))


class _ParseError(Exception):
    pass


def _tokenize(s: str):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c in " \t\f":
            i += 1
        elif "0" <= c <= "9" or c == ".":
            m = _NUMBER.match(s, i)
            if m is None:
                return None
            text = m.group(0)
            if "." not in text and _LEADING_ZERO.match(text):
                return None
            out.append(("num", float(text)))
            i += len(text)
        elif c in "*/" and s[i + 1:i + 2] == c:
            out.append(("op", c + c))
            i += 2
        elif c in "+-*/()":
            out.append(("op", c))
            i += 1
        else:
            return None
    return out


def _fmod(a: float, b: float) -> float:
    """C's fmod, which JavaScript's % is; NaN where Python's math.fmod raises."""
    try:
        return math.fmod(a, b)
    except ValueError:
        return math.nan


def _floor(x: float) -> float:
    """JavaScript's Math.floor: infinities, NaN and -0 come back as they are."""
    return x if x == 0 or not math.isfinite(x) else float(math.floor(x))


def _floor_divide(a: float, b: float) -> float:
    """Python's float floor division (CPython's _float_div_mod), as the lab computes it."""
    mod = _fmod(a, b)
    div = (a - mod) / b
    if mod != 0 and (b < 0) != (mod < 0):
        div -= 1
    if div == 0:
        return 0.0
    q = _floor(div)
    if div - q > 0.5:
        q += 1
    return q


def _is_odd_integer(x: float) -> bool:
    return math.isfinite(x) and x == math.floor(x) and math.fmod(x, 2) != 0


def _pow(base: float, exponent: float) -> float:
    """JavaScript's Math.pow (ECMAScript Number::exponentiate) on Python floats."""
    if math.isnan(exponent):
        return math.nan
    if exponent == 0:
        return 1.0
    if math.isnan(base):
        return math.nan
    if math.isinf(exponent) and abs(base) == 1:
        return math.nan
    if base < 0 and math.isfinite(base) and math.isfinite(exponent) and exponent != math.floor(exponent):
        return math.nan
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return -math.inf if base < 0 and _is_odd_integer(exponent) else math.inf
    except ValueError:
        return math.nan


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def is_op(self, op: str) -> bool:
        return self.pos < len(self.tokens) and self.tokens[self.pos] == ("op", op)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _ParseError("too deep")

    def expr(self) -> float:
        self.enter()
        v = self.term()
        while self.is_op("+") or self.is_op("-"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            r = self.term()
            v = v + r if op == "+" else v - r
        self.depth -= 1
        return v

    def term(self) -> float:
        v = self.factor()
        while self.is_op("*") or self.is_op("/") or self.is_op("//"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            r = self.factor()
            if op == "*":
                v = v * r
            elif r == 0:
                raise _ParseError("division by zero")
            else:
                v = v / r if op == "/" else _floor_divide(v, r)
        return v

    def factor(self) -> float:
        if self.is_op("+") or self.is_op("-"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            self.enter()
            v = self.factor()
            self.depth -= 1
            return -v if op == "-" else v
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if not self.is_op("**"):
            return base
        self.pos += 1
        self.enter()
        exponent = self.factor()
        self.depth -= 1
        if base == 0 and exponent < 0:
            raise _ParseError("zero to a negative power")
        return _pow(base, exponent)

    def atom(self) -> float:
        if self.pos >= len(self.tokens):
            raise _ParseError("unexpected end")
        kind, value = self.tokens[self.pos]
        self.pos += 1
        if kind == "num":
            return value
        if value != "(":
            raise _ParseError(f"unexpected {value}")
        v = self.expr()
        if not self.is_op(")"):
            raise _ParseError("missing )")
        self.pos += 1
        return v


def evaluate_equation(equation: str) -> float | None:
    """The value of an arithmetic equation, or None when Python's eval would fail or give no number."""
    tokens = _tokenize(equation)
    if tokens is None:
        return None
    parser = _Parser(tokens)
    try:
        v = parser.expr()
    except _ParseError:
        return None
    if parser.pos != len(tokens):
        return None
    return v if math.isfinite(v) else None


_INTEGERS = re.compile(r"[0-9]+")
_ALLOWED = re.compile(r"[0-9+\-*/()." + re.escape(JS_WHITESPACE) + r"]+")


def uses_exactly(equation: str, numbers: list[int]) -> bool:
    """TinyZero's validate_equation: the integers in the equation are exactly the given numbers."""
    used = sorted(float(m) for m in _INTEGERS.findall(equation))
    return used == sorted(float(n) for n in numbers)


def countdown_score(completion: str, numbers: list[int], target: int) -> float:
    """TinyZero's compute_score: the last line's last <answer> (stripped) is the equation; none → 0;
    wrong numbers, characters outside the allowed set, failure to evaluate, or a result 1e-5 or more
    from the target → 0.1; otherwise 1."""
    content = last_answer(completion.split("\n")[-1])
    if content is None:
        return 0.0
    equation = js_trim(content)
    if not uses_exactly(equation, numbers):
        return SCORE_FORMAT
    if _ALLOWED.fullmatch(equation) is None:
        return SCORE_FORMAT
    v = evaluate_equation(equation)
    if v is None:
        return SCORE_FORMAT
    return SCORE_RIGHT if abs(v - target) < 1e-5 else SCORE_FORMAT


def countdown(completions: list[str], numbers: list[list[int]], target: list[int], **kwargs) -> list[float]:
    """TinyZero's score: 1 for a right equation using each number once, 0.1 for a wrong one in <answer>, 0 for none."""
    return [countdown_score(c, n, t) for c, n, t in zip(completions, numbers, target, strict=True)]


REWARD_FUNCS = [countdown, format_reward]


def is_correct(completion: str, row: dict) -> bool:
    return countdown_score(completion, row["numbers"], row["target"]) == SCORE_RIGHT
`

const ECHO = String.raw`def accuracy(completions: list[str], answer: list[str], **kwargs) -> list[float]:
    """1 when the completion is exactly the digit."""
    return [1.0 if c == a else 0.0 for c, a in zip(completions, answer, strict=True)]


def first_char(completions: list[str], answer: list[str], **kwargs) -> list[float]:
    """1 when the completion starts with the digit."""
    return [1.0 if c.startswith(a) else 0.0 for c, a in zip(completions, answer, strict=True)]


REWARD_FUNCS = [accuracy, first_char]


def is_correct(completion: str, row: dict) -> bool:
    return completion == row["answer"]
`

/** Each task's rewards.py body: its functions' names (TRL logs rewards/<name>/mean), in the order of the
 *  task's reward functions, and whether it has the template's format check. A task missing here
 *  cannot be exported to TRL. */
export const PYTHON_REWARDS: Record<string, { source: string; functions: string[]; hasFormat: boolean }> = {
  addition: { source: `${COMMON}\n\n\n${ADDITION}`, functions: ['accuracy', 'format'], hasFormat: true },
  countdown: { source: `${COMMON}\n\n\n${COUNTDOWN}`, functions: ['countdown', 'format'], hasFormat: true },
  echo: { source: ECHO, functions: ['accuracy', 'first_char'], hasFormat: false },
}
