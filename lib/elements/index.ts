export * from "./symbols";
