"""The 服务号's custom menu (自定义菜单) for the public's tasks, and what each item does.

Each click arrives as a CLICK event carrying the item's key; the channel turns it into the command
of the same task, so a menu press and a typed command run the same conversation. Limits from the
custom menu documentation (自定义菜单/创建接口): at most 3 top-level items of at most 16 bytes (4
Chinese characters) and 5 sub-items each of at most 60 bytes; a key at most 128 bytes.

A parameter QR code (生成带参数的二维码) may carry a scene: `bind_<binding code>` binds the account
that scans it, as `/bind <code>` would (an admin can print a binding code as a QR code instead of
dictating it); any other scene opens the greeting.
"""

from __future__ import annotations

from typing import Any

# (top-level name, [(sub-item name, key, command)])
MENU: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("信用查询", [
        ("查询企业", "Q_HELP", "/help"),
        ("信用报告", "Q_REPORT", "/report"),
        ("文件核验", "Q_CHECK", "/checkreport"),
    ]),
    ("企业办事", [
        ("自主申报", "B_DECLARE", "/declare"),
        ("我的申报", "B_MINE", "/mydeclarations"),
        ("提出异议", "B_OBJECTION", "/objection"),
        ("信用修复", "B_REPAIR", "/repair"),
    ]),
    ("我的账号", [
        ("账号信息", "A_WHOAMI", "/whoami"),
        ("绑定账号", "A_BIND", "/bind"),
        ("取消办理", "A_CANCEL", "/cancel"),
    ]),
]
COMMANDS = {key: command for _top, items in MENU for _name, key, command in items}
BIND_SCENE = "bind_"


def menu_body() -> dict[str, Any]:
    """The menu/create payload."""
    return {
        "button": [
            {"name": top, "sub_button": [{"type": "click", "name": name, "key": key} for name, key, _c in items]}
            for top, items in MENU
        ]
    }


def command_for_click(key: str) -> str | None:
    return COMMANDS.get(key)


def command_for_scene(scene: str) -> str:
    """The command a scanned parameter QR code stands for (subscribe: "qrscene_" + scene)."""
    scene = scene.removeprefix("qrscene_").strip()
    if scene.startswith(BIND_SCENE) and scene[len(BIND_SCENE) :].strip():
        return "/bind " + scene[len(BIND_SCENE) :].strip()
    return "/start"
