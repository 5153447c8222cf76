"""Pinyin search keys: computed once when a phrase or article is written, stored, then only read.

pypinyin costs about 55 MB and a noticeable pause on import, and ~150 µs per short string, so it
is imported lazily, on the first string that actually holds Chinese characters, and its results
are meant to be stored (`kb_article.search_keys`) rather than recomputed at every start.

Key format (version 1), one line::

    py1 TuiKuanDaoZhang ShouHou

Each word after the version tag is one run of consecutive Chinese characters from the title or a
tag, spelled in toneless pinyin with the first letter of every syllable in upper case. Lower-cased,
a run is the full pinyin ("tuikuandaozhang"); its capitals are the initials ("tkdz"), and a capital
marks a syllable boundary, so a full-pinyin match can be required to start on a syllable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache, partial

from cs_tui.collector import kept_for_good

VERSION_TAG = "py1"

# Han ideographs (basic, extension A, compatibility); the chars pypinyin can spell.
HAN_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def has_han(text: str) -> bool:
    return HAN_RUN_RE.search(text) is not None


@lru_cache(maxsize=1)
def _pinyin() -> Callable[[str], list[str]]:
    """pypinyin's spelling, imported on first use (see the module docstring). Its dictionaries,
    about 200,000 objects that live as long as the process, are kept out of the garbage
    collector's way: left in, each full pass walked them again (40 ms of a pass, the
    workstation's screen held still meanwhile)."""
    with kept_for_good():
        from pypinyin import Style, lazy_pinyin
    return partial(lazy_pinyin, style=Style.NORMAL, errors="ignore", v_to_u=False)


@lru_cache(maxsize=4096)
def _spell_run(run: str) -> str:
    syllables = _pinyin()(run)
    return "".join(s[:1].upper() + s[1:].lower() for s in syllables if s.isascii() and s.isalpha())


def make_keys(texts: Iterable[str]) -> str:
    """The search-key line for an entry, from its title and tags (or any short texts).

    Returns "" when none of the texts holds a Chinese character, without importing pypinyin.
    """
    runs: list[str] = []
    for text in texts:
        if not text:
            continue
        for match in HAN_RUN_RE.finditer(text):
            spelled = _spell_run(match.group())
            if spelled and spelled not in runs:
                runs.append(spelled)
    if not runs:
        return ""
    return " ".join([VERSION_TAG, *runs])


def parse_keys(keys: str) -> list[str] | None:
    """The pinyin runs of a stored key line, or None when it is not in a format we know."""
    if not keys:
        return []
    parts = keys.split()
    if not parts or parts[0] != VERSION_TAG:
        return None
    runs = parts[1:]
    if keys.isascii() and "".join(runs).isalpha():
        return runs  # keys as make_keys writes them: no part to drop (index build reads 100k)
    return [p for p in runs if p.isascii() and p.isalpha()]


_DROP_LOWER = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")


def initials(run: str) -> str:
    """'TuiKuan' -> 'tk'."""
    return run.translate(_DROP_LOWER).lower()


# Toneless syllables of Mandarin as pypinyin spells them (ü as v), to tell whether a query of
# latin letters could be pinyin at all before scanning the keys for it.
_SYLLABLE_TEXT = """a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can
    cang cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan
    chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di dia
    dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng fo
    fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han
    hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie
    jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan
    kuang kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long
    lou lu luan lue lun luo lv lve ma mai man mang mao me mei men meng mi mian miao mie min ming miu
    mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu
    nuan nue nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi
    qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou
    ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei shen
    sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai
    tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen
    weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi
    yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao
    zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu
    zuan zui zun zuo"""
SYLLABLES = frozenset(_SYLLABLE_TEXT.split())
_SYLLABLE_PREFIXES = frozenset(s[:n] for s in SYLLABLES for n in range(1, len(s) + 1))
_INITIAL_LETTERS = frozenset("abcdefghjklmnopqrstwxyz")  # no syllable starts with i, u or v


def could_be_initials(text: str) -> bool:
    return bool(text) and all(c in _INITIAL_LETTERS for c in text)


def could_be_full_pinyin(text: str) -> bool:
    """True when text splits into syllables, the last one possibly unfinished ('tuik')."""
    if not text or not text.isascii() or not text.isalpha():
        return False
    n = len(text)
    reachable = [False] * (n + 1)
    reachable[0] = True
    for start in range(n):
        if not reachable[start]:
            continue
        for end in range(start + 1, min(n, start + 6) + 1):
            piece = text[start:end]
            if piece in SYLLABLES or (end == n and piece in _SYLLABLE_PREFIXES):
                reachable[end] = True
        if reachable[n]:
            return True
    return reachable[n]
