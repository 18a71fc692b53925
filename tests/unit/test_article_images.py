"""archiver.extract.images: the article's images, resolved and put back where they stood, on pages of our own."""

from __future__ import annotations

from lxml import html as lxml_html

from archiver.extract.images import article_images, best_candidate, resolve_lazy_images, srcset_candidates
from archiver.formats import html_page
from archiver.model import Input, Origin
from archiver.normalize import normalize

PARAGRAPH = "The harbour workers voted on Tuesday to end the strike after nine days of talks with the port. "
SECOND = "Ferries will run to the usual timetable from Thursday morning, the operator said in a statement. "
THIRD = "Union leaders called the agreement a fair settlement for both sides and thanked the passengers. "


def page(body: str, head: str = "") -> str:
    return f"<html><head><title>Strike ends</title>{head}</head><body>{body}</body></html>"


def placed(html: str, extraction: str, **options) -> str:
    root = lxml_html.document_fromstring(html)
    resolve_lazy_images(root, options.pop("base_url", "https://news.example/2024/strike.html"))
    return article_images(root, extraction, base_url="https://news.example/2024/strike.html", **options)


def sources(fragment: str) -> list[str]:
    if not fragment.strip():
        return []
    return [img.get("src") for img in lxml_html.fragment_fromstring(fragment, create_parent="div").iter("img")]


EXTRACTION = f"<p>{PARAGRAPH}</p><p>{SECOND}</p><p>{THIRD}</p>"


def test_an_image_between_paragraphs_is_put_back_after_the_paragraph_before_it() -> None:
    html = page(f"<nav><img src='/logo-site.png'><a href='/'>Home</a></nav><article><p>{PARAGRAPH}</p>"
                f"<figure><img src='/photos/quay.jpg' alt='The quay'><figcaption>Pickets at dawn.</figcaption>"
                f"</figure><p>{SECOND}</p><p>{THIRD}</p></article>")
    out = placed(html, EXTRACTION)
    assert sources(out) == ["https://news.example/photos/quay.jpg"]
    assert out.index("quay.jpg") > out.index("nine days") and out.index("quay.jpg") < out.index("Ferries")
    assert 'alt="The quay"' in out and 'title="Pickets at dawn."' in out  # the caption the text left out


def test_lazy_loading_placeholders_noscript_copies_and_picture_sources_resolve_to_the_real_image() -> None:
    html = page(
        f"<article><p>{PARAGRAPH}</p>"
        "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==' "
        "data-src='/img/lazy.jpg' alt='lazy'>"
        f"<p>{SECOND}</p><img src='/img/placeholder.gif' class='lazy'><noscript><img src='/img/real.jpg'></noscript>"
        f"<p>{THIRD}</p><picture><source srcset='/img/wide.webp 1600w, /img/narrow.webp 400w'>"
        "<img src='/img/fallback.jpg'></picture></article>")
    assert sources(placed(html, EXTRACTION)) == ["https://news.example/img/lazy.jpg",
                                                 "https://news.example/img/real.jpg",
                                                 "https://news.example/img/wide.webp"]


def test_srcset_is_read_by_words_so_urls_may_hold_commas_and_the_widest_reasonable_candidate_wins() -> None:
    srcset = "https://i.example/c_fill,w_80/a.jpg 80w, https://i.example/c_fill,w_800/a.jpg 800w, /huge.jpg 4000w"
    assert [url for url, _ in srcset_candidates(srcset)] == [
        "https://i.example/c_fill,w_80/a.jpg", "https://i.example/c_fill,w_800/a.jpg", "/huge.jpg"]
    assert best_candidate(srcset) == "https://i.example/c_fill,w_800/a.jpg"
    assert best_candidate("/only-huge.jpg 4000w, /huger.jpg 5000w") == "/only-huge.jpg"
    assert best_candidate("a.jpg 1x,b.jpg 2x") == "b.jpg"


def test_the_lead_photo_above_the_first_paragraph_is_kept_and_the_site_logo_is_not() -> None:
    html = page(f"<header><img src='/assets/site-logo.png'><p>Site of news and other things</p></header>"
                f"<main><h1>Strike ends</h1><figure><img src='/photos/lead-1024x768.jpg'></figure>"
                f"<div class='body'><p>{PARAGRAPH}</p><p>{SECOND}</p><p>{THIRD}</p></div></main>")
    out = placed(html, EXTRACTION)
    assert sources(out) == ["https://news.example/photos/lead-1024x768.jpg"]
    assert out.index("lead-1024x768") < out.index("nine days")  # above the text, as on the page


def test_images_of_other_boxes_and_teasers_for_other_pages_are_not_the_articles() -> None:
    html = page(f"<article><p>{PARAGRAPH}</p>"
                "<div class='share-buttons'><img src='/img/facebook-share.png'></div>"
                "<div class='RelatedContent'><img src='/img/other-story.jpg'></div>"
                "<a href='/2024/another-story.html'><img src='/img/teaser.jpg'>Another story that the article "
                "does not hold at all</a>"
                f"<img src='/img/pixel.gif' width='1' height='1'><p>{SECOND}</p>"
                f"<aside><img src='/img/sidebar.jpg'></aside><p>{THIRD}</p></article>")
    assert sources(placed(html, EXTRACTION)) == []


def test_two_sizes_of_one_picture_count_once_the_larger_kept() -> None:
    html = page(f"<article><p>{PARAGRAPH}</p><img src='https://cdn.example/max/60/a1b2c3d4e5f6.png?q=20'>"
                f"<img src='https://cdn.example/max/1600/a1b2c3d4e5f6.png'><p>{SECOND}</p>"
                f"<img src='https://cdn.example/one/pic.png'><img src='https://cdn.example/two/pic.png'>"
                f"<p>{THIRD}</p></article>")
    assert sources(placed(html, EXTRACTION)) == ["https://cdn.example/max/1600/a1b2c3d4e5f6.png",
                                                 "https://cdn.example/one/pic.png", "https://cdn.example/two/pic.png"]


def test_images_the_extractor_kept_are_replaced_by_the_pages_own() -> None:
    html = page(f"<article><p>{PARAGRAPH}</p><img data-src='/img/real.jpg' src='/img/spacer.gif'>"
                f"<p>{SECOND}</p><p>{THIRD}</p></article>")
    extraction = f"<p>{PARAGRAPH}</p><img src='/img/spacer.gif'><p>{SECOND}</p><p>{THIRD}</p>"
    assert sources(placed(html, extraction)) == ["https://news.example/img/real.jpg"]


def test_a_document_base_element_resolves_relative_images() -> None:
    html = page(f"<article><p>{PARAGRAPH}</p><img src='pics/a.jpg'><p>{SECOND}</p><p>{THIRD}</p></article>",
                head="<base href='https://cdn.example/base/'>")
    assert sources(placed(html, EXTRACTION)) == ["https://cdn.example/base/pics/a.jpg"]


def test_a_saved_page_keeps_its_images_in_the_archived_post() -> None:
    html = page("<article><h1>Strike ends</h1><figure><img src='https://news.example/lead.jpg' alt='Lead'>"
                "</figure>" + "".join(f"<p>{PARAGRAPH} {i}</p>" for i in range(6)) +
                "<figure><img srcset='https://news.example/mid-400.jpg 400w, https://news.example/mid-1200.jpg 1200w'"
                " alt='Middle'></figure>" + "".join(f"<p>{SECOND} {i}</p>" for i in range(6)) + "</article>")
    origin = Origin("url", "https://news.example/2024/strike.html")
    raw = next(html_page.parse(Input(data=html.encode(), name="strike.html", origin=origin)))
    post = normalize(raw, origin)
    assert [(image["src"], image["alt"]) for image in post.images] == [
        ("https://news.example/lead.jpg", "Lead"), ("https://news.example/mid-1200.jpg", "Middle")]
