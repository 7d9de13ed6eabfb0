import pytest

from newscrawl.normalize.bylines import Byline, editor_from_footer, split_byline
from newscrawl.normalize.titles import clean_title
from newscrawl.sites import get_site

SUFFIXES = get_site("mydrivers").title_suffixes


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("小米首款徕卡旗舰7月发！--快科技--科技改变未来", "小米首款徕卡旗舰7月发！"),
        ("Win10更新惹祸——快科技(驱动之家旗下媒体)--科技改变未来", "Win10更新惹祸"),
        ("  A\u3000\u3000B\n\tC\u00a0D  ", "A B C D"),
        ("AT&amp;T &lt;b&gt; &#x5c0f;米", "AT&T <b> 小米"),
        ("NUL\x00and\x1fcontrol\x85chars\ufffe", "NULandcontrolchars"),
        ("--快科技--科技改变未来", "--快科技--科技改变未来"),  # only a suffix: keep it rather than lose the title
        ("快科技--快科技--科技改变未来", "快科技"),
        ("M11/Q2 相机", "M11/Q2 相机"),  # the JSONL keeps the true title; `_` is the archive writer's business
        ("   ", None),
        (None, None),
    ],
)
def test_clean_title(raw, clean):
    assert clean_title(raw, SUFFIXES) == clean


@pytest.mark.parametrize(
    ("text", "byline"),
    [
        (
            "2022-06-04 20:38:05  出处：快科技  作者：拾柒  编辑：雪花  人气：1234  评论：5",
            Byline(source="快科技", author="拾柒", editor="雪花", date_text="2022-06-04 20:38:05"),
        ),
        (
            "2021-07-10 17:04:24\u00a0\u00a0出处：中关村在线\u00a0\u00a0编辑：振亭",
            Byline(source="中关村在线", author=None, editor="振亭", date_text="2021-07-10 17:04:24"),
        ),
        ("作者:张三 来源: IT之家", Byline(source="IT之家", author="张三", editor=None, date_text=None)),
        ("2022-06-04 20:38  人气：", Byline(date_text="2022-06-04 20:38")),
        ("出处：  作者：拾柒", Byline(author="拾柒")),
        ("By Ada Brook", Byline(author="Ada Brook")),
        ("  by  Tom\nReed ", Byline(author="Tom Reed")),
        ("Byline missing", Byline(date_text="Byline missing")),  # "By" only as a word of its own
        ("By 作者：拾柒", Byline(author="拾柒", date_text="By")),  # labels win over the English form
        ("", Byline()),
        (None, Byline()),
    ],
)
def test_split_byline(text, byline):
    assert split_byline(text) == byline


@pytest.mark.parametrize(
    ("text", "editor"),
    [
        ("责任编辑：拾柒", "拾柒"),
        ("\n  责任编辑: 上方文Q\n", "上方文Q"),
        ("[责任编辑：Ugmbbc]", "Ugmbbc"),
        ("【责任编辑：雪花】", "雪花"),
        ("[ 编辑：raymon725 ]", "raymon725"),
        ("文章纠错", None),
        ("本文编辑认为", None),
        (None, None),
    ],
)
def test_editor_from_footer(text, editor):
    assert editor_from_footer(text) == editor
