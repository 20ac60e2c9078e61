"""Live flows against a target: the Partner Center walk and the Graph export."""
