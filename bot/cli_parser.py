"""An argparse parser that speaks Chinese: `creditbot … --help` and its mistakes.

argparse writes its own words ("usage:", "options:", "show this help message and exit", "the
following arguments are required") through gettext, in English unless a compiled catalogue is
installed for the whole process. The few words it has are replaced here instead: the usage prefix
by the formatter, the group titles and the -h option by the parser, and the error messages by a
table of argparse's own templates (Python 3.11+). A message not in the table is shown as argparse
wrote it, after the Chinese "错误：".
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

HELP_TEXT = "显示此帮助并退出"

# argparse's error templates (3.11) as patterns, with their Chinese wording.
_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), chinese)
    for pattern, chinese in (
        (r"^argument (?P<arg>.+?): (?P<rest>.+)$", "参数 {arg}：{rest}"),
        (r"^the following arguments are required: (?P<a>.+)$", "缺少必需的参数：{a}"),
        (r"^unrecognized arguments: (?P<a>.+)$", "无法识别的参数：{a}"),
        (r"^invalid choice: (?P<v>.+?) \(choose from (?P<c>.+)\)$", "无效的取值 {v}（可选：{c}）"),
        (r"^invalid (?P<t>\w+) value: (?P<v>.+)$", "{v} 不是有效的{t}"),
        (r"^expected one argument$", "需要一个值"),
        (r"^expected at least one argument$", "至少需要一个值"),
        (r"^expected at most one argument$", "最多只能有一个值"),
        (r"^ambiguous option: (?P<o>.+?) could match (?P<m>.+)$", "选项 {o} 有歧义，可能是：{m}"),
        (r"^one of the arguments (?P<a>.+) is required$", "参数 {a} 必须填写其中一个"),
        (r"^not allowed with argument (?P<a>.+)$", "不能与参数 {a} 同时使用"),
        (r"^ignored explicit argument (?P<a>.+)$", "多余的值 {a}"),
    )
)

_TYPES = {"int": "整数", "float": "数字"}
_TITLES = ("选项", "位置参数", "子命令")


def chinese_error(message: str) -> str:
    """argparse's English error message in Chinese (nested "argument X: …" translated inside)."""
    for pattern, chinese in _ERRORS:
        m = pattern.match(message)
        if m:
            parts = {k: (chinese_error(v) if k == "rest" else _TYPES.get(v, v) if k == "t" else v)
                     for k, v in m.groupdict().items()}
            return chinese.format(**parts)
    return message


class ChineseHelpFormatter(argparse.HelpFormatter):
    """Help text with a Chinese usage line."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)

    def format_help(self) -> str:
        text = super().format_help()
        for title in _TITLES:  # argparse ends a section title with an ASCII colon
            text = text.replace(f"\n{title}:\n", f"\n{title}：\n")
        return text


class ChineseArgumentParser(argparse.ArgumentParser):
    """ArgumentParser with Chinese help and errors. Sub-commands made by `add_subparsers().add_parser`
    are of the same class (argparse's default parser_class is the parent's type)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=HELP_TEXT)

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("title", "子命令")
        return super().add_subparsers(**kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{chinese_error(message)}\n")
