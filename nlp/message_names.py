"""A message → the name it carries and the slots outside that name (issue 11). Pure, no I/O.

* Whole names first: the longest stretch of the message that is a registered name or alias wins
  before any filler, category or matter word is cut, so 安康市恒信招标代理有限公司 is never cut to
  安康市恒信 with 招标 taken for the matter; a word inside the matched name is never a slot.
* Old identifiers (nlp.legacy_codes) are cut out first, like USCCs, and never echoed in clear:
  `safe_echo` masks any long run of digits a reply would quote back.
* `resolve_message` is what the chat handler does before it touches the database; the labelled
  sets and the benchmark judge it, so they judge what users get.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from nlp.index_parts import Candidate, IndexEntry, Resolution
from nlp.intent import Query, parse
from nlp.legacy_codes import LegacyCode, find_legacy_codes
from nlp.lexicon import Lexicon
from nlp.matters import MATTER_WORDS
from nlp.name_parts import branch_parent, typed_head
from nlp.name_relations import HeadAsked, branch_of_written_out, head_office_asked, never_a_branch
from nlp.normalize import FILLER_PHRASES, name_key, strip_invisible
from nlp.resolver import NameIndex
from rules.categories import normalize_category
from rules.masking import mask_id, mask_phones
from rules.measures import MATTERS

# Words that ask for the rest of the current subject's card.
MORE_WORDS = frozenset({"更多", "更多记录", "还有呢", "还有吗", "下一页", "继续", "其他记录", "全部记录"})
_LONG_DIGITS = re.compile(r"\d{8,}")
Admit = Callable[[IndexEntry], bool]


def safe_echo(text: str) -> str:
    """The user's text as a reply may quote it: mobile numbers masked as stored (139****5678,
    rules.masking.mask_phones), then every other run of 8+ digits masked like an ID number. The
    phone goes first: masked like an ID, 13912345678 showed all but one digit (139123*5678)."""
    return _LONG_DIGITS.sub(lambda m: mask_id(m.group(0)), mask_phones(text))


# Digits, maybe grouped by spaces or dashes, ending in a digit or X: an ID number as people paste it.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d(?:[\d \-]{13,22})[\dXx](?![0-9A-Za-z])")


def mask_id_numbers(text: str) -> str:
    """The text with every 15- or 18-digit ID number (also typed in groups) and every mobile number
    (139****5678) masked, and nothing else changed: a USCC, a name and a 组织机构代码 stay as sent (a
    batch line's echo, an XLSX cell)."""

    def mask(m: re.Match[str]) -> str:
        glued = m.group(0).replace(" ", "").replace("-", "")
        if len(glued) in (15, 18) and glued[:-1].isdigit():
            return mask_id(glued)
        return m.group(0)

    return mask_phones(_ID_LIKE.sub(mask, strip_invisible(text)))


def whole_name_first(index: NameIndex, text: str, query: Query) -> tuple[str | None, Query]:
    """(the first name the message carries whole, the slots parsed from the text outside the names);
    see `names_in`. Returns (None, query) when no name is found that way."""
    names, rest = names_in(index, text, query)
    return (names[0] if names else None), rest


def names_in(index: NameIndex, text: str, query: Query) -> tuple[list[str], Query]:
    """(the names a message carries whole, in order; the slots parsed from the text outside them).

    Registered names or aliases typed anywhere in the message win, each only where it stands as a
    whole: not followed by more of a name (an organisation form, a branch word, a place, an
    industry word: 陕西秦巴物流有限公司安康分公司 is a branch, not its head office) nor preceded by a
    region word (石泉县恒达建材有限公司 is not the alias 恒达建材). Two of them are two subjects.
    Failing that, the message as typed, then without fillers, each also with the slot words at its
    end cut one by one, is tried as a name through the tiers that take text as it is
    (`EXACT_TIERS`): 恒信招标 finds 恒信招标代理有限公司 (招标 belongs to the name), 时光记录摄影 keeps
    its 记录. Returns ([], query) when nothing fits.
    """
    key, stops = _key_with_stops(text)
    spans = _registered_spans(index, key, stops)
    if spans:
        outside = " ".join(piece.strip(_JOINERS) for piece in _pieces(key, spans))
        rest = parse(outside, index.lexicon)
        return [key[a:b] for a, b in spans], rest
    if query.uscc or query.id_numbers:
        return [], query
    tried: set[str] = set(query.names[:1])
    for form in dict.fromkeys([key, name_key(query.text)]):
        for candidate, cut in _tail_cuts(form, index.lexicon):
            if candidate in tried or len(candidate) < 3:
                continue
            tried.add(candidate)
            result = index.resolve(candidate, exact_only=True)
            if result.status != "none":
                rest = parse(cut, index.lexicon) if cut else Query("query")
                return [candidate], Query(
                    "query", [], category=rest.category, matter=rest.matter, raw=query.raw, text=query.text
                )
    return [], query


# Tiers where the text is a whole name, core, 字号 or their reading, not a piece of one.
_WHOLE_KEY_TIERS = frozenset({"exact", "core", "brand", "pinyin", "initials"})
# Characters that join two names in one message (恒达建材和瀛湖渔业, A、B).
_JOINERS = "和与及跟同、,，;；/ "


_STOPS = re.compile(r"[、，,；;。！？!?\n]+")


def _key_with_stops(text: str) -> tuple[str, set[int]]:
    """The name key of a message and the positions in it where the message had a separating mark
    (、，；。 …: the key drops punctuation, names never hold these)."""
    pieces = [name_key(p) for p in _STOPS.split(text)]
    stops, pos = set(), 0
    for piece in pieces:
        pos += len(piece)
        stops.add(pos)
    return "".join(pieces), stops


def _registered_spans(index: NameIndex, key: str, stops: set[int] | None = None) -> list[tuple[int, int]]:
    """Non-overlapping stretches of `key` that are registered names standing as a whole, longest
    first, in text order."""
    spans: list[tuple[int, int]] = []
    todo = [(0, len(key))]
    around, accept = _boundaries(index, key, stops or set())
    while todo:
        lo, hi = todo.pop()
        found = index.name_span(key, lo, hi, accept, around=around)
        if found is None:
            continue
        spans.append(found)
        todo += [(lo, found[0]), (found[1], hi)]
    return sorted(spans)


def _boundaries(index: NameIndex, key: str, stops: set[int]):  # type: ignore[no-untyped-def]
    """(around, accept) for a stretch (start, end) that is a registered name: it stands as a whole
    name when the text around it is nothing or the words a question puts around a name (fillers,
    slots, joining words: `around`, checked first) and it cuts no word in two (`accept`), so it is
    no piece of a longer name typed around it (众林利商贸 holds no 林利商贸, 石泉县恒达建材有限公司
    no 恒达建材)."""
    loose = _loose_words(index)
    inside: set[int] | None = None  # segmented only when a stretch is a name at all

    def around(start: int, end: int) -> bool:
        before, after = key[:start], key[end:]
        if before and start not in stops and not before.endswith(loose):
            return False
        return not after or end in stops or after.startswith(loose)

    def accept(start: int, end: int) -> bool:
        nonlocal inside
        if inside is None:
            inside = _inside_words(index, key)
        return start not in inside and end not in inside  # 同达盛饭店 holds no name 达盛饭店

    return around, accept


_LOOSE: dict[int, tuple[str, ...]] = {}


def _loose_words(index: NameIndex) -> tuple[str, ...]:
    """Words a question puts around a name: fillers, slots, particles, intents, joining words."""
    key = id(index.lexicon)
    if key not in _LOOSE:
        words = {*_tail_words(index.lexicon), *index.lexicon.intent_words}
        # One character is a boundary only as a particle or a joining word: 有 begins 有限公司.
        words = {w for w in words if len(w) > 1} | set(_JOINERS.strip()) | set("的吗呢吧啊了么查看问请")
        _LOOSE[key] = tuple(sorted((w for w in words if w.strip()), key=len, reverse=True))
    return _LOOSE[key]


def _inside_words(index: NameIndex, key: str) -> set[int]:
    """Positions strictly inside a word of the text (jieba), other than a slot or filler word."""
    import jieba

    lexicon = index.lexicon
    loose = {*lexicon.stop_words, *lexicon.category_words, *lexicon.matter_words, *lexicon.intent_words, *FILLER_PHRASES}
    out: set[int] = set()
    pos = 0
    for token in jieba.lcut(key, HMM=False):
        if len(token) > 1 and token not in loose:
            out.update(range(pos + 1, pos + len(token)))
        pos += len(token)
    return out


def _pieces(key: str, spans: list[tuple[int, int]]) -> list[str]:
    out, last = [], 0
    for a, b in spans:
        out.append(key[last:a])
        last = b
    out.append(key[last:])
    return [p for p in out if p]


def _tail_cuts(form: str, lexicon: Lexicon) -> list[tuple[str, str]]:
    """(the form, "") and then the form with up to three slot words cut from its end, with the cut."""
    words = _tail_words(lexicon)
    out = [(form, "")]
    cut = ""
    for _ in range(3):
        for w in words:
            if form.endswith(w) and len(form) > len(w):
                form, cut = form[: -len(w)], w + cut
                out.append((form, cut))
                break
        else:
            break
    return out


_TAIL_CACHE: dict[int, tuple[str, ...]] = {}


def _tail_words(lexicon: Lexicon) -> tuple[str, ...]:
    """Words that end a question after the name: categories, matters, fillers, particles."""
    key = id(lexicon)
    if key not in _TAIL_CACHE:
        words = {*lexicon.category_words, *lexicon.matter_words, *lexicon.stop_words, *FILLER_PHRASES}
        words |= {"信用", "的", "吗", "呢", "吧", "啊", "了", "么", "有没有", "有无", "是否", "怎么样", "如何"}
        _TAIL_CACHE[key] = tuple(sorted((w for w in words if w), key=len, reverse=True))
    return _TAIL_CACHE[key]


def drop_slots_inside(name: str, query: Query) -> Query:
    """A matter or category word that is part of the chosen subject's name was never asked for."""
    key = name_key(name)
    matter, category = query.matter, query.category
    if matter and (MATTERS.get(matter, "") in key or any(w in key for w in _matter_words(matter, query.text))):
        matter = None
    if category and any(w in key for w in _category_words(category, query.text)):
        category = None
    if matter == query.matter and category == query.category:
        return query
    return Query(query.intent, query.names, query.uscc, query.id_numbers, category, query.division_code, matter, query.raw, query.text)


def _matter_words(matter: str, text: str) -> list[str]:
    from nlp.matters import matter_from_text

    return [w for w in _words_in(text) if matter_from_text(w) == matter]


def _category_words(category: str, text: str) -> list[str]:
    return [w for w in _words_in(text) if normalize_category(w) == category or _alias(w) == category]


def _alias(word: str) -> str | None:
    return normalize_category({"处罚": "行政处罚", "许可": "行政许可", "黑名单": "严重失信主体名单"}.get(word, word))


def _words_in(text: str) -> list[str]:
    """Every 2-4 character piece of the text: the slot words the parser may have taken from it."""
    key = name_key(text)
    return [key[i : i + n] for n in (2, 3, 4) for i in range(len(key) - n + 1)]


def matter_allowed_for(name: str, matter: str | None) -> str | None:
    """On a button press only the key survives: drop a matter whose own words are in the name."""
    if not matter:
        return None
    key = name_key(name)
    if any(word in key for word, k in MATTER_WORDS if k == matter):
        return None
    return matter


def is_followup(query: Query) -> bool:
    """No name and no code, but a matter, a category or "更多": it asks about the current subject."""
    if wants_more(query):
        return True
    if query.names or query.uscc or query.id_numbers:
        return False
    return bool(query.matter or query.category or name_key(query.raw) in MORE_WORDS)


def wants_more(query: Query) -> bool:
    return name_key(query.raw) in MORE_WORDS


@dataclass
class Mention:
    """One name a message carries: as typed (to quote back through `safe_echo`) and resolved."""

    typed: str
    resolution: Resolution


@dataclass
class MessageAnswer:
    """What a message asks for: the resolution of its first name or code, every name it carries
    (`mentions`, in order; two names are two subjects), the slots, the old codes."""

    resolution: Resolution
    query: Query
    legacy: list[LegacyCode] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


# At most this many subjects are answered from one message.
MAX_MENTIONS = 3


def resolve_message(text: str, index: NameIndex, admit: Admit | None = None) -> MessageAnswer:
    """The subject(s) a message means, as every door finds them before the database is asked.

    Old codes are reported in `legacy` (the archive decides them); a valid USCC, the 组织机构代码
    inside a USCC, then names (whole names first). A USCC one character off is offered (ambiguous),
    never taken. `admit` keeps out subjects the asker may not find by name (services.findable).
    """
    text = branch_of_written_out(strip_invisible(text or ""))
    head = head_office_asked(text)
    if head is not None:
        return _head_office(head, index, admit)
    legacy, rest = find_legacy_codes(text)
    query = parse(rest, index.lexicon)
    for code in legacy:
        if code.kind == "org":
            found = [e for e in index.by_org_code(code.value) if admit is None or admit(e)]
            if found:
                return MessageAnswer(_by_code(found), query, legacy)
    if legacy:
        return MessageAnswer(Resolution("none"), query, legacy)
    for m in query.uscc:
        entry = index.by_uscc(m.value) if m.valid else None
        if entry is not None:
            return MessageAnswer(_by_code([entry]), query, legacy)
        near = index.near_uscc(m.value) if not m.valid and len(m.value) == 18 else []
        return MessageAnswer(Resolution("ambiguous", _by_code(near).candidates) if len(near) == 1 else Resolution("none"), query, legacy)
    if query.id_numbers:
        return MessageAnswer(Resolution("none"), query, legacy)
    names, slots = names_in(index, rest, query)
    english = None
    if names:
        query = Query(query.intent if query.intent != "unknown" else "query", names, query.uscc, query.id_numbers,
                      slots.category, slots.division_code, slots.matter, query.raw, query.text)
        extra = slots.names
    else:
        english = index.english.to_key(rest) if rest.isascii() else None
        names = [english] if english else list(query.names)
        extra = []
    mentions = _mentions(index, names, extra, query.division_code, admit)
    if english and mentions and mentions[0].typed == english:
        mentions[0].typed = " ".join(rest.split())  # quoted back as typed, not as read
    where = name_key(rest)
    mentions.sort(key=lambda m: (where.find(name_key(m.typed)) % (len(where) + 1)))
    if len(mentions) == 1 and _CLAUSES.search(rest) and _fragment_of_sentence(mentions[0], where):
        # 不予采购，已告知申请人 (a note typed after a check): "没有找到与“不予”" quotes a piece of a
        # sentence as if it were the name asked; the sentence as typed is what found nothing.
        mentions[0].typed = " ".join(rest.split())
    if not mentions:
        return MessageAnswer(Resolution("none"), query, legacy)
    first = mentions[0].resolution
    if first.status == "clear":
        query = drop_slots_inside(first.candidates[0].name, query)
    return MessageAnswer(first, query, legacy, mentions)


def _head_office(asked: HeadAsked, index: NameIndex, admit: Admit | None) -> MessageAnswer:
    """"X的总公司" (nlp.name_relations): the head office of the branch X finds (its registered
    parent), else X with its branch part cut, else X itself; never a branch's card."""
    inner = resolve_message(asked.named, index, admit)
    named = inner.mentions[0].typed if inner.mentions else asked.named
    head: str | None = None
    if inner.resolution.status == "clear":
        head = branch_parent(name_key(inner.resolution.candidates[0].name))
    head = head or typed_head(named, index.affixes) or named
    answer = resolve_message(head + asked.after, index, admit)

    def is_branch(name: str) -> bool:
        return index.evidence.parts(name, registered=True).is_branch

    answer.resolution = never_a_branch(answer.resolution, is_branch)
    for mention in answer.mentions:
        mention.resolution = never_a_branch(mention.resolution, is_branch)
    return answer


# A mark between two clauses: the text is a sentence of its own, not a name with a question around it.
_CLAUSES = re.compile("[，,；;。！!？?]")


def _fragment_of_sentence(mention: Mention, where: str) -> bool:
    """A name of two characters or fewer, found in a text at least three times its length, that
    finds nobody: a piece left over from a sentence, not a name typed."""
    key = name_key(mention.typed)
    r = mention.resolution
    return len(key) <= 2 and len(where) >= 3 * max(1, len(key)) and r.status == "none" and not r.candidates


def _mentions(
    index: NameIndex, names: list[str], extra: list[str], division: str | None, admit: Admit | None
) -> list[Mention]:
    """The first name always; further names (also those left over beside a registered name) only
    when they find someone: "靠谱" or "最近" beside a name is no second subject."""
    out: list[Mention] = []
    seen: set[str] = set()
    for i, name in enumerate([*names, *(n.strip(_JOINERS) for n in extra)]):
        if len(out) >= MAX_MENTIONS or len(name) < 2 or name_key(name) in seen:
            continue
        seen.add(name_key(name))
        result = index.resolve(name, division_code=division, admit=admit)
        if result.status != "clear" and not result.conflict:
            # 瀛湖林业和鑫源矿业: two names joined; 和瑞丰电子科技: a joining word before one. Only
            # when every part finds someone on its own (和, 同 and 与 are inside many names), and
            # clearly so when the whole text was already close to a name.
            found = _split_at_joiners(index, name, division, admit, clear=result.status != "none")
            if found:
                out.extend(found)
                continue
        if i == 0 or result.status != "none":
            out.append(Mention(name, result))
    return out[:MAX_MENTIONS]


def _split_at_joiners(
    index: NameIndex, name: str, division: str | None, admit: Admit | None, clear: bool = False
) -> list[Mention]:
    """[恒达建材, 瀛湖渔业] from 恒达建材和瀛湖渔业, or the name without a joining word at its edge;
    [] unless every part (three characters or more) finds someone by itself."""

    parts = [p for p in re.split("[" + re.escape(_JOINERS) + "]", name) if p]
    if parts == [name]:
        return []
    if not parts or any(len(p) < 3 for p in parts):
        return []
    out = []
    for part in parts:
        result = index.resolve(part, division_code=division, admit=admit)
        if result.status == "none" or (clear and result.status != "clear"):
            return []
        if result.candidates[0].how not in _WHOLE_KEY_TIERS:
            return []  # a piece of a name (天建筑工程 of 同天建筑工程), not a name of its own
        out.append(Mention(part, result))
    return out


def _by_code(entries: list) -> Resolution:  # type: ignore[type-arg]
    if not entries:
        return Resolution("none")
    cands = [Candidate(e.subject_id, e.name, e.division_code, e.uscc, 100.0, e.uscc or "", "code") for e in entries]
    return Resolution("clear" if len(cands) == 1 else "ambiguous", cands)
