export * from "./symbols";
export * from "./table";
