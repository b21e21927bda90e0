"""Moving embeddings and predictions between hearbench and other evaluation tools."""
