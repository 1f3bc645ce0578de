"""The reference for the startup benchmark: a minimal Textual app showing a DataTable of rows."""

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "value", "type", "scope", "version")
        table.add_row("REFERENCE_READY", "yes", "env_var", "default", "1")
        table.add_rows(
            [(f"KEY_{i}", f"value-{i}", "env_var", "default", str(1 + i % 3)) for i in range(40)]
        )


if __name__ == "__main__":
    Minimal().run()
