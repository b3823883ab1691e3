def on_clinical_data_changed(event):
    """Placeholder until the evaluation service lands (same commit series)."""
