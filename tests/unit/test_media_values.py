"""archiver.media, its pure parts: what a download is, which images a post shows, where a bundle keeps them."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest

from archiver.clean_html import clean
from archiver.formats import bundle
from archiver.media.job import MediaJob, job_for
from archiver.media.probe import MediaRefused, probe
from archiver.media.refs import bundle_paths, image_refs
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAYAAAC56t6BAAAAEklEQVR4nGNgYGD4z8DAwMDAAAAHBQEAzBsjPQAAAABJ"
                       "RU5ErkJggg==")
GIF = base64.b64decode("R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20"><rect width="5" height="5"/></svg>'


def test_an_image_is_known_by_its_bytes_with_its_dimensions() -> None:
    assert probe(PNG) == probe(PNG) and (probe(PNG).content_type, probe(PNG).width, probe(PNG).height) == (
        "image/png", 2, 3)
    assert probe(GIF).extension == "gif"
    assert (probe(SVG).extension, probe(SVG).width, probe(SVG).height) == ("svg", 10, 20)
    with pytest.raises(MediaRefused) as refused:
        probe(b"<!doctype html><html><body>Login required</body></html>")
    assert refused.value.code == "not_an_image"


@pytest.mark.parametrize("svg", [
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><use x:href="https://e.com/a#b"/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url(https://tracker.example/p)"/></svg>',
    b'<!DOCTYPE svg [<!ENTITY e "boom">]><svg xmlns="http://www.w3.org/2000/svg"><text>&e;</text></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="href" to="javascript:alert(1)"/></svg>',
])
def test_an_svg_that_could_run_or_fetch_anything_is_refused(svg: bytes) -> None:
    with pytest.raises(MediaRefused) as refused:
        probe(svg)
    assert refused.value.code == "unsafe_svg"


def test_a_posts_images_are_its_bodys_then_its_lead_image_each_once() -> None:
    document = {"images": [{"src": "https://a.example/1.png"}, {"src": "/img/2.png"}, {"src": "https://a.example/1.png"},
                           {"src": "data:image/png;base64,AAAA"}],
                "image": "https://cdn.example/lead.jpg", "extra": {"bundle_entry": "site/content/post/a.md"}}
    refs = image_refs(document)
    assert [(r.src, r.url) for r in refs] == [("https://a.example/1.png", "https://a.example/1.png"),
                                              ("/img/2.png", None),
                                              ("https://cdn.example/lead.jpg", "https://cdn.example/lead.jpg")]
    assert "site/static/img/2.png" in refs[1].bundle_paths


def test_bundle_paths_look_beside_the_post_then_under_each_served_root_of_each_folder_above() -> None:
    assert bundle_paths("photo.jpg", "blog/content/post/b/index.md")[0] == "blog/content/post/b/photo.jpg"
    found = bundle_paths("/img/x.png", "blog/content/post/a.md")
    assert {"blog/static/img/x.png", "blog/img/x.png", "blog/assets/img/x.png", "img/x.png"} <= set(found)
    assert not any(".." in path for path in bundle_paths("../../../../etc/passwd", "a.md"))


def test_a_media_job_names_the_post_version_and_the_images_host() -> None:
    source = b"---\ntitle: T\nurl: https://blog.example/t/\n---\n![a](https://img.example/a.png)\n"
    [post] = normalize_input(Input(data=source, name="t.md", origin=Origin("file", "t.md")))
    job = job_for(post, 3)
    assert job == MediaJob(post.id, 3, "img.example")
    assert MediaJob.from_message(job.to_message()) == job
    assert MediaJob.from_message('{"archiver_chunk": {}}') is None
    [plain] = normalize_input(Input(data=b"---\ntitle: T\n---\nNo pictures.\n", name="p.md",
                                    origin=Origin("file", "p.md")))
    assert job_for(plain, 1) is None


def test_a_site_url_resolves_root_links_of_a_site_source_and_leaves_its_page_relative_ones() -> None:
    origin = Origin("file", "a.md", site_url="https://blog.example/")
    [post] = normalize_input(Input(data=b"---\ntitle: T\n---\n![a](/img/a.png) ![b](b.png) [c](/about/)\n",
                                   name="a.md", origin=origin))
    assert [image["src"] for image in post.images] == ["https://blog.example/img/a.png", "b.png"]
    assert post.links[0]["url"] == "https://blog.example/about/"
    assert 'src="b.png"' in clean('<img src="b.png">', root_url="https://blog.example/")


def test_a_zipped_site_names_its_url_in_its_own_configuration() -> None:
    def zipped(files: dict[str, bytes]) -> Input:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        return Input(data=buffer.getvalue(), name="site.zip", origin=Origin("file", "site.zip"))

    post = b"---\ntitle: T\n---\nBody text.\n"
    assert bundle.site_url(zipped({"s/config.toml": b'baseURL = "https://hugo.example/"\n',
                                   "s/content/a.md": post})) == "https://hugo.example/"
    assert bundle.site_url(zipped({"_config.yml": b"url: https://jekyll.example\nbaseurl: /blog\n",
                                   "_posts/2024-01-01-a.md": post})) == "https://jekyll.example/blog/"
    assert bundle.site_url(zipped({"a.md": post})) is None
