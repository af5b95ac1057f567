// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title IDataAssetRegistry
 * @notice Registry of data assets (what data exists, never its content) and of their versions:
 * immutable, numbered Poseidon Merkle-sum roots published by the asset owner, directly or by a
 * relayer carrying the owner's EIP-712 signature.
 * @dev A version id encodes its asset: `versionId = (assetId << 64) | number`, numbers from 1.
 */
interface IDataAssetRegistry {
    /// @notice A registered data asset.
    struct Asset {
        address owner; // may publish versions, grant and revoke access
        uint48 registeredAt; // block timestamp of registration
        uint32 versionCount; // number of published versions (the latest version's number)
        bool retired; // no new versions, grants or answers once set; history stays readable
        bytes32 metadataHash; // hash of the off-chain asset description
        string schemaId; // e.g. a Catena-X aspect URN
        string endpoint; // gateway URL that answers queries on this asset
    }

    /// @notice One published, immutable version of an asset.
    struct Version {
        uint256 root; // Poseidon Merkle-sum root of the salted records (a BN254 field element)
        uint64 recordCount; // number of records committed
        uint48 publishedAt; // block timestamp of publication
        uint32 treeDepth; // depth of the commitment tree
        uint48 publishedBlock; // block number of publication (seeds its audit, IAuditAttestations)
        bytes32 paramsHash; // hash of the index and schema parameters used to build the tree
    }

    /// @notice An asset was registered.
    event AssetRegistered(
        uint256 indexed assetId,
        address indexed owner,
        string schemaId,
        bytes32 metadataHash,
        string endpoint
    );
    /// @notice An asset's gateway endpoint changed.
    event AssetEndpointUpdated(uint256 indexed assetId, string oldEndpoint, string newEndpoint);
    /// @notice An asset's metadata hash changed.
    event AssetMetadataUpdated(uint256 indexed assetId, bytes32 oldHash, bytes32 newHash);
    /// @notice An asset changed owner.
    event AssetOwnershipTransferred(
        uint256 indexed assetId,
        address indexed previousOwner,
        address indexed newOwner
    );
    /// @notice An asset was retired.
    event AssetRetired(uint256 indexed assetId);
    /// @notice A version was published (`publisher` is the sender: the owner or a relayer).
    event VersionPublished(
        uint256 indexed assetId,
        uint256 indexed versionId,
        uint32 number,
        uint256 root,
        uint64 recordCount,
        uint32 treeDepth,
        bytes32 paramsHash,
        address publisher
    );

    /// @notice No asset has this id.
    error AssetNotFound(uint256 assetId);
    /// @notice `account` is not the owner of asset `assetId`.
    error UnauthorizedAssetOwner(uint256 assetId, address account);
    /// @notice The asset is retired.
    error AssetIsRetired(uint256 assetId);
    /// @notice The schema id is empty.
    error InvalidSchemaId();
    /// @notice The new owner is the zero address.
    error InvalidAssetOwner(address owner);
    /// @notice The root is zero or not a BN254 field element.
    error InvalidRoot(uint256 root);
    /// @notice No version has this id.
    error VersionNotFound(uint256 versionId);
    /// @notice A relayed publication's deadline has passed.
    error ExpiredSignature(uint256 deadline);
    /// @notice A relayed publication's signature is not the asset owner's.
    error InvalidPublishSignature(uint256 assetId, address owner);

    /**
     * @notice Registers a data asset owned by the sender.
     * @param schemaId The schema the records follow (non-empty), e.g. a Catena-X aspect URN.
     * @param metadataHash Hash of the off-chain asset description.
     * @param endpoint URL of the gateway that answers queries on the asset.
     * @return assetId The new asset's id (from 1).
     */
    function registerAsset(
        string calldata schemaId,
        bytes32 metadataHash,
        string calldata endpoint
    ) external returns (uint256 assetId);

    /**
     * @notice Changes an asset's gateway endpoint. Only the asset owner; not when retired.
     * @param assetId The asset.
     * @param endpoint The new endpoint.
     */
    function updateEndpoint(uint256 assetId, string calldata endpoint) external;

    /**
     * @notice Changes an asset's metadata hash. Only the asset owner; not when retired.
     * @param assetId The asset.
     * @param metadataHash The new metadata hash.
     */
    function updateMetadata(uint256 assetId, bytes32 metadataHash) external;

    /**
     * @notice Hands an asset to a new owner, effective at once. Only the asset owner.
     * @param assetId The asset.
     * @param newOwner The new owner (not the zero address).
     */
    function transferAssetOwnership(uint256 assetId, address newOwner) external;

    /**
     * @notice Retires an asset for good: no new versions, grants or answers. Only the asset
     * owner. Allowed while paused.
     * @param assetId The asset.
     */
    function retireAsset(uint256 assetId) external;

    /**
     * @notice Publishes the next version of an asset. Only the asset owner; not when retired.
     * @param assetId The asset.
     * @param root The commitment root (non-zero BN254 field element).
     * @param recordCount Number of records committed.
     * @param treeDepth Depth of the commitment tree.
     * @param paramsHash Hash of the index and schema parameters.
     * @return versionId The new version's id, `(assetId << 64) | number`.
     */
    function publishVersion(
        uint256 assetId,
        uint256 root,
        uint64 recordCount,
        uint32 treeDepth,
        bytes32 paramsHash
    ) external returns (uint256 versionId);

    /**
     * @notice Publishes the next version of an asset on behalf of its owner, who signed the
     * EIP-712 message `PublishVersion(uint256 assetId,uint256 root,uint64 recordCount,
     * uint32 treeDepth,bytes32 paramsHash,uint256 nonce,uint256 deadline)` with their current
     * nonce. Anyone may relay. ERC-1271 signatures of contract owners are accepted.
     * @param assetId The asset.
     * @param root The commitment root (non-zero BN254 field element).
     * @param recordCount Number of records committed.
     * @param treeDepth Depth of the commitment tree.
     * @param paramsHash Hash of the index and schema parameters.
     * @param deadline Last timestamp at which the signature is valid.
     * @param signature The owner's signature.
     * @return versionId The new version's id.
     */
    function publishVersionBySig(
        uint256 assetId,
        uint256 root,
        uint64 recordCount,
        uint32 treeDepth,
        bytes32 paramsHash,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 versionId);

    /**
     * @notice Reads an asset.
     * @param assetId The asset.
     * @return The asset; reverts with AssetNotFound when it does not exist.
     */
    function getAsset(uint256 assetId) external view returns (Asset memory);

    /**
     * @notice Reads a version.
     * @param versionId The version id.
     * @return The version; reverts with VersionNotFound when it does not exist.
     */
    function getVersion(uint256 versionId) external view returns (Version memory);

    /**
     * @notice Number of assets registered so far (ids run from 1 to this).
     * @return The count.
     */
    function assetCount() external view returns (uint256);

    /**
     * @notice The version id of version `number` of asset `assetId` (whether or not it exists).
     * @param assetId The asset.
     * @param number The version number (from 1).
     * @return `(assetId << 64) | number`.
     */
    function versionIdOf(uint256 assetId, uint32 number) external pure returns (uint256);

    /**
     * @notice The EIP-712 type hash of PublishVersion.
     * @return The type hash.
     */
    // solhint-disable-next-line func-name-mixedcase
    function PUBLISH_VERSION_TYPEHASH() external view returns (bytes32);
}
