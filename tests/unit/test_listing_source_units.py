"""Listing sources as declared units of the site modules: how `-a tag=` names their walks, what each reads,
which stands in for which, and how the articles they stand in for are labelled. No network."""

import pytest
from conftest import FETCHED_AT, FIXTURES

from newscrawl.extract.page import Listed, Page, site_article
from newscrawl.items import Unusable
from newscrawl.parsing.sources import parse_feed
from newscrawl.sites import get_site

MYDRIVERS, CNBETA, OSCHINA = get_site("mydrivers"), get_site("cnbeta"), get_site("oschina")
ALL_NEWS = "https://rss.mydrivers.com/rss.aspx?Tid=1"
MOBILE_NEW = "https://m.mydrivers.com/m/newslist.ashx?ac=new"
NEWS_LIST = "https://www.oschina.net/news/widgets/_news_index_generic_list?p=1&type=ajax"


@pytest.mark.parametrize(
    ("site", "tag", "walk", "feed"),
    [
        (MYDRIVERS, "rss", ALL_NEWS, "rss"),
        (
            MYDRIVERS,
            "https://rss.mydrivers.com/rss.aspx?cid=7",
            "https://rss.mydrivers.com/rss.aspx?cid=7",
            "rss-cid-7",
        ),
        (MYDRIVERS, "mobile", MOBILE_NEW, "mobile-new"),
        (MYDRIVERS, "mobile:hot", "https://m.mydrivers.com/m/newslist.ashx?ac=hot", "mobile-hot"),
        (MYDRIVERS, "xiaomi12_ultra", "https://news.mydrivers.com/tag/xiaomi12_ultra.htm", "xiaomi12_ultra"),
        (CNBETA, "rss", "https://www.cnbeta.com.tw/backend.php", "rss"),
        (CNBETA, "category:science", "https://www.cnbeta.com.tw/category/science.htm", "category-science"),
        (
            CNBETA,
            "https://www.cnbeta.com.tw/category/science.htm",
            "https://www.cnbeta.com.tw/category/science.htm",
            "category-science",
        ),
        (CNBETA, "9", "https://www.cnbeta.com.tw/topics/9.htm", "9"),
        (OSCHINA, "rss", "https://www.oschina.net/news/rss", "rss"),
        (OSCHINA, "news", NEWS_LIST, "news"),
    ],
)
def test_a_tag_names_a_walk_of_a_source_or_of_the_tag_pages(site, tag, walk, feed):
    assert site.listing_url(tag) == walk
    assert site.feed_name(walk) == feed


@pytest.mark.parametrize(("site", "tag"), [(MYDRIVERS, "mobile:cold"), (CNBETA, "category:科学"), (OSCHINA, "linux")])
def test_a_tag_no_source_names_is_refused_naming_every_form(site, tag):
    with pytest.raises(ValueError) as refused:
        site.listing_url(tag)
    assert "rss" in str(refused.value)


def test_the_all_news_feed_and_the_mobile_list_stand_in_for_each_other_and_never_loop():
    assert MYDRIVERS.fallback_listing(ALL_NEWS, ALL_NEWS) == MOBILE_NEW
    assert MYDRIVERS.fallback_listing(MOBILE_NEW, MOBILE_NEW) == ALL_NEWS
    assert MYDRIVERS.fallback_listing(ALL_NEWS, MOBILE_NEW) is None  # the stand-in broke too: nothing left
    assert (
        MYDRIVERS.fallback_listing(
            "https://news.mydrivers.com/tag/laika.htm", "https://news.mydrivers.com/tag/laika.htm"
        )
        is None
    )
    assert OSCHINA.fallback_listing(NEWS_LIST, NEWS_LIST) == "https://www.oschina.net/news/rss"
    assert OSCHINA.fallback_listing("https://www.oschina.net/news/rss", "https://www.oschina.net/news/rss") is None


def test_articles_are_labelled_only_by_a_source_standing_in_for_another():
    assert MYDRIVERS.listing_source(MOBILE_NEW, ALL_NEWS) == "mobile"
    assert MYDRIVERS.listing_source(ALL_NEWS, ALL_NEWS) is None  # the walk's own source
    assert OSCHINA.listing_source("https://www.oschina.net/news/rss", NEWS_LIST) == "rss"
    assert OSCHINA.listing_source(NEWS_LIST, NEWS_LIST) is None


def test_the_mobile_list_and_the_feed_read_the_same_articles_with_their_dates():
    feed = MYDRIVERS.parse_listing((FIXTURES / "mydrivers/site/rss.mydrivers.com/rss.aspx@Tid=1").read_text(), ALL_NEWS)
    mobile = MYDRIVERS.parse_listing(
        (FIXTURES / "mydrivers/site/m.mydrivers.com/m/newslist.ashx@ac=new").read_text(), MOBILE_NEW
    )
    ids = [MYDRIVERS.article_id(url) for url in feed.article_urls]
    assert ids == [MYDRIVERS.article_id(url) for url in mobile.article_urls] == ["850166", "848601", "847312"]
    assert feed.partial and mobile.partial  # neither pages on: their ends complete nothing
    assert mobile.article_dates["https://m.mydrivers.com/newsview/848601.html"] == "2022-09-03 19:21"
    assert feed.article_dates["https://news.mydrivers.com/1/848/848601.htm"] == "Sat, 03 Sep 2022 11:21:27 GMT"


def test_an_atom_feed_is_read_and_what_is_not_a_feed_is_refused():
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="alternate" href="/news/1/a"/>'
        "<published>2026-01-02T03:04:05Z</published></entry></feed>"
    )
    found = parse_feed(atom, "https://www.oschina.net/news/rss")
    assert found.article_urls == ["https://www.oschina.net/news/1/a"]
    assert found.article_dates == {"https://www.oschina.net/news/1/a": "2026-01-02T03:04:05Z"}
    for bad in ("<html><body>challenge</body></html>", "not xml at all"):
        with pytest.raises(Unusable, match="bad_feed"):
            parse_feed(bad, "https://www.oschina.net/news/rss")


def test_the_json_list_names_each_items_outlet():
    more = FIXTURES / "cnbeta/site/www.cnbeta.com.tw/home/more@type=topic-455&page=1&_csrf=bW9kZWxsZWQtdG9rZW4"
    found = CNBETA.parse_listing(
        more.read_text(), "https://www.cnbeta.com.tw/home/more?type=topic-455&page=1&_csrf=bW9kZWxsZWQtdG9rZW4"
    )
    assert found.article_outlets == {"https://www.cnbeta.com.tw/articles/tech/1233391.htm": "Phoronix"}


def test_the_listings_outlet_is_the_source_only_where_the_page_names_none():
    path = FIXTURES / "cnbeta/site/www.cnbeta.com.tw/articles/tech/1233391.htm"
    url = "https://www.cnbeta.com.tw/articles/tech/1233391.htm"
    page = Page("cnbeta", url, path.read_bytes(), "text/html; charset=utf-8", FETCHED_AT, Listed(outlet="Phoronix"))
    named = site_article(CNBETA, page)
    assert named.source == "cnBeta.COM" and "source" not in named.fallbacks  # the page's own wins
    unnamed = page._replace(body=path.read_bytes().replace(b'class="source"', b'class="other"'))
    assert unnamed.body != page.body  # the page really lost its outlet
    article = site_article(CNBETA, unnamed)
    assert (article.source, article.fallbacks["source"]) == ("Phoronix", "listing")


def test_the_cnbeta_feed_lists_both_articles_with_their_instants():
    feed = CNBETA.listing_url("rss")
    found = CNBETA.parse_listing((FIXTURES / "cnbeta/site/www.cnbeta.com.tw/backend.php").read_text(), feed)
    assert [CNBETA.article_id(url) for url in found.article_urls] == ["1233391", "1218640"] and found.partial
