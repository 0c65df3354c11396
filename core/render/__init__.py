"""Render: colours and names, figures, the domain graph, the report and the demo store."""
