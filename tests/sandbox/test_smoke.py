from tests.support.sandbox import SandboxProcess


def test_banner_names_url(sandbox: SandboxProcess) -> None:
    assert sandbox.url in sandbox.banner


def test_workspace_roundtrip(client) -> None:
    ws = client.taskrouter.v1.workspaces.create(friendly_name="Smoke")
    assert ws.fetch().friendly_name == "Smoke"
