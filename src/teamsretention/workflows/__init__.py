"""Administrative actions shared by the command line and (later) the SharePoint list sync: each checks its
input, changes the store through its named functions, and leaves an audit event naming who acted."""
