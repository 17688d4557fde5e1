from __future__ import annotations


def test_signed_in_pages_render(signed_in):
    client = signed_in("admin")
    for url in ["/", "/admin/users", "/admin/offices", "/admin/offices/1", "/admin/physicians",
                "/admin/physicians/1", "/audit", "/admin/rooms/1", "/admin/users/new"]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:3000])
    client = signed_in("scheduler")
    for url in ["/", "/patients", "/patients?q=a", "/patients/1", "/patients/1/edit", "/patients/new"]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:3000])
