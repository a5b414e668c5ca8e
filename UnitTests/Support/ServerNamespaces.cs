// The server's parts live in namespaces by folder (Loop, Chat, Accounts, Storage, ...); tests of
// any of them see all, as the server's own composition does.
global using PollChat.Server.Accounts;
global using PollChat.Server.Chat;
global using PollChat.Server.Cli;
global using PollChat.Server.Loop;
