"""Storage: the database, the conversation store and the feedback store, shared by every interface."""
