"""What the chat and the CLI both show: PDFs (credit report, 事前告知书), charts and shared texts.

Below `handlers/` and `bot/`, above the use cases, so that a CLI command renders exactly what the
chat sends without importing a conversation module.
"""
