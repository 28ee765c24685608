// The built-in feed's package resource (src/model/package.cc PackageJson).
export interface PackageResource {
  Id: string; // "packages-<PackageId>.<Version>"
  PackageId: string;
  Version: string;
  Title: string;
  Summary: string;
  Description: string;
  ReleaseNotes: string;
  Published: string;
  FileExtension: string;
  PackageSizeBytes: number;
  Hash: string;
  Sha256: string;
}

export interface PackageCollection {
  Items: PackageResource[];
  TotalResults: number;
  ItemsPerPage: number;
  NumberOfPages: number;
}
