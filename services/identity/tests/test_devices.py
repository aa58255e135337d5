"""The sessions list names a device from its User-Agent."""

import pytest

from portal_identity.devices import device_of

EDGE = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/604"


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (EDGE, "Edge on Windows"),  # Edge also says Chrome and Safari
        (IPHONE, "Safari on iPhone"),  # an iPhone also says Mac OS X
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko Firefox/133.0", "Firefox on Linux"),
        ("Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari", "Chrome on Android"),
        ("python-httpx/0.28.1", "Python"),
        ("", None),
        ("SomethingElse/1.0", None),
    ],
)
def test_a_device_is_named_from_its_user_agent(agent: str, device: str | None) -> None:
    assert device_of(agent) == device
