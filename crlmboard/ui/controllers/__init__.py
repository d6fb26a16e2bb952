"""Controllers: the behaviour of the pages whose layout is in ui/views/."""
