"""Contract Q&A crew: answers questions over contracts with verified citations."""
